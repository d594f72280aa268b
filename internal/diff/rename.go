package diff

import (
	"bytes"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/render"
)

// Rename is a cluster that the after side registers under another name:
// a cluster gone and a cluster new with the same API server. Argo CD sees
// one cluster (the Secret's name comes from the server) whose
// Applications are all replaced, since each is named after the cluster.
type Rename struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Env    string `json:"env"`
	Server string `json:"server"`
	// Apps counts the apps both names get: the Applications deleted under
	// From's name and created under To's. Apps only one side gets stay in
	// the placement.
	Apps int `json:"apps"`
	// ResourcesKept says the old Applications leave their resources
	// running (preserveResourcesOnDeletion), for the new ones to adopt;
	// otherwise Argo CD deletes them and the new Applications create
	// them again.
	ResourcesKept bool `json:"resourcesKept"`
	// StoreKeyBefore and StoreKeyAfter are where the registration reads
	// the cluster's credentials in the secret store: the same only if the
	// cluster sets credentials.key. Empty where a side reads none.
	StoreKeyBefore string `json:"storeKeyBefore,omitempty"`
	StoreKeyAfter  string `json:"storeKeyAfter,omitempty"`
}

// registration is what diff reads off a cluster's registration.
type registration struct {
	// server is the cluster's API server URL, the Secret's "server".
	server string
	// storeKey is the key the ExternalSecret reads the credentials from.
	storeKey string
}

// readRegistration reads the server and the store key off a registration
// (an ExternalSecret that templates the cluster Secret, or the Secret
// itself): the value of a "server" key under a "data" or "stringData"
// mapping, and of the first remoteRef's "key". What it cannot find is
// empty.
func readRegistration(data []byte) registration {
	var r registration
	docs, err := parse(data)
	if err != nil {
		return r
	}
	var walk func(n *yaml.Node, parent string)
	walk = func(n *yaml.Node, parent string) {
		n = resolve(n)
		if n == nil {
			return
		}
		for _, e := range mappingEntries(n) {
			v := resolve(e.value)
			if v == nil {
				continue
			}
			switch {
			case r.server == "" && e.name == argocd.DataServer && (parent == "data" || parent == "stringdata") && v.Kind == yaml.ScalarNode:
				r.server = v.Value
			case r.storeKey == "" && e.name == "key" && parent == "remoteref" && v.Kind == yaml.ScalarNode:
				r.storeKey = v.Value
			}
			walk(v, e.name)
		}
		if n.Kind == yaml.SequenceNode || n.Kind == yaml.DocumentNode {
			for _, c := range n.Content {
				walk(c, parent)
			}
		}
	}
	for _, d := range docs {
		walk(d, "")
	}
	return r
}

// registrations reads the registrations of the given clusters of a side.
func registrations(files []render.File, clusters []string) map[string]registration {
	out := map[string]registration{}
	for _, f := range files {
		if kind, cluster, _, _ := classify(f.Path); kind == Registration && slices.Contains(clusters, cluster) {
			out[cluster] = readRegistration(f.Data)
		}
	}
	return out
}

// Renames lists the clusters that after registers under another name than
// before, as Compare reports them: for a caller that cuts the sides down
// to some clusters and must keep both names of each.
func Renames(before, after Side) []Rename {
	return newMeta(before, after).renames
}

// renames pairs the clusters only before has with those only after has
// that have the same server (argocd.ServerKey: as compile's check of
// duplicate servers compares them, so a server respelled, its host's case
// or a trailing slash, is still the one server), each at most once: a server that two
// clusters of a side share is no rename fleetc can tell. Env, Apps and
// ResourcesKept are left to the caller.
func renames(removed, added []string, before, after map[string]registration) []Rename {
	byServer := func(names []string, regs map[string]registration) map[string][]string {
		out := map[string][]string{}
		for _, n := range names {
			if s := regs[n].server; s != "" {
				k := argocd.ServerKey(s)
				out[k] = append(out[k], n)
			}
		}
		return out
	}
	gone, fresh := byServer(removed, before), byServer(added, after)
	var out []Rename
	for _, from := range removed {
		s := before[from].server
		key := argocd.ServerKey(s)
		if len(gone[key]) != 1 || len(fresh[key]) != 1 {
			continue
		}
		to := fresh[key][0]
		out = append(out, Rename{From: from, To: to, Server: s,
			StoreKeyBefore: before[from].storeKey, StoreKeyAfter: after[to].storeKey})
	}
	return out
}

// compareEnvName orders by env, prod first, then by name.
func compareEnvName(envA, a, envB, b string) int {
	if c := compareEnv(envA, envB); c != 0 {
		return c
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// preserves reads whether an ApplicationSet keeps the resources of the
// Applications it deletes (spec.syncPolicy.preserveResourcesOnDeletion),
// and whether it says at all.
func preserves(data []byte) (keep, known bool) {
	var set argocd.ApplicationSet
	if err := yaml.Unmarshal(data, &set); err != nil || set.Kind != argocd.ApplicationSetKind {
		return false, false
	}
	return set.Spec.SyncPolicy != nil && set.Spec.SyncPolicy.PreserveResourcesOnDeletion, true
}

// pairRenamed turns the removed file of a renamed cluster and the added
// file at the same path under the new name into one Renamed change, with
// each side's name read as ClusterPlaceholder: what is left to see is what
// changes besides the name, often nothing.
func pairRenamed(changes []Change, renames []Rename) []Change {
	if len(renames) == 0 {
		return changes
	}
	added := map[string]int{}
	for i, c := range changes {
		if c.Status == Added {
			added[c.Path] = i
		}
	}
	drop := map[int]bool{}
	for i, c := range changes {
		if c.Status != Removed {
			continue
		}
		for _, r := range renames {
			if !render.OwnedBy(r.From, c.Path) {
				continue
			}
			to := movedPath(c.Path, r.From, r.To)
			j, ok := added[to]
			if !ok {
				break
			}
			b, a, ok := withoutNames(c.Before, changes[j].After, r.From, r.To)
			if !ok {
				break
			}
			changes[j] = Change{Path: to, Status: Renamed, From: c.Path, Before: b, After: a}
			drop[i] = true
			break
		}
	}
	out := changes[:0]
	for i, c := range changes {
		if !drop[i] {
			out = append(out, c)
		}
	}
	return out
}

// movedPath is where the file at p of cluster from goes for cluster to.
func movedPath(p, from, to string) string {
	if c, ok := render.RegistrationOf(p); ok && c == from {
		return path.Join(path.Dir(p), to+".yaml")
	}
	return render.ValuesDir + "/" + to + strings.TrimPrefix(p, render.ValuesDir+"/"+from)
}

// withoutNames reads the name of each side as ClusterPlaceholder in the
// lines that differ: before's lines that after lacks have from replaced,
// after's lines that before lacks have to replaced, wherever the name is a
// word of its own. A line both sides have stays as it is, so that text
// which merely contains the old name (the server's host) is no change.
// False if either side already holds the placeholder, which would then be
// ambiguous.
func withoutNames(before, after []byte, from, to string) ([]byte, []byte, bool) {
	if bytes.Contains(before, []byte(ClusterPlaceholder)) || bytes.Contains(after, []byte(ClusterPlaceholder)) {
		return nil, nil, false
	}
	lines := func(data []byte) map[string]bool {
		out := map[string]bool{}
		for _, l := range strings.Split(string(data), "\n") {
			out[l] = true
		}
		return out
	}
	replace := func(data []byte, other map[string]bool, name string) []byte {
		ls := strings.Split(string(data), "\n")
		for i, l := range ls {
			if !other[l] {
				ls[i] = replaceName(l, name)
			}
		}
		return []byte(strings.Join(ls, "\n"))
	}
	return replace(before, lines(after), from), replace(after, lines(before), to), true
}
