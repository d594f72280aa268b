// Package diff compares two compiled outputs (what is committed and what a
// compile would write, or the outputs of two git refs) and says what the
// change does to each cluster: which clusters and Argo CD Applications
// appear or disappear, and which lines of which files change, with hunks
// that change identically on many clusters merged into one. Secret values
// are masked before anything is compared. It never touches disk or prints.
package diff

import (
	"bytes"
	"cmp"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/fan"
	"github.com/fleetc/fleetc/internal/render"
)

// Kind says what an output file is.
type Kind string

// The kinds of output files.
const (
	Values         Kind = "values"         // an app's values file on one cluster
	Registration   Kind = "registration"   // a cluster's Argo CD registration
	ApplicationSet Kind = "applicationset" // an app's ApplicationSet, fleet-wide
	Other          Kind = "other"
)

// Status says how a file, cluster or placement differs between the sides.
type Status string

// The statuses of a change.
const (
	Added   Status = "added"
	Removed Status = "removed"
	Changed Status = "changed"
	// Renamed is a file of a renamed cluster at its new path: compared
	// with the file at the old path, the old name read as the new.
	Renamed Status = "renamed"
)

// Side is one side of a comparison: an output tree as files.
type Side struct {
	// Files is every file of the output, paths relative to its root.
	Files []render.File
	// Outputs, when the side was compiled, say what each cluster is: its
	// env and its apps' bundles. Output read from disk has none; then
	// clusters and apps are read off the paths and each cluster's env off
	// the env label of its registration.
	Outputs []*render.Output
	// Fleet are fleet-wide files left out of Files because the comparison
	// is cut down to some clusters (the ApplicationSets): not compared, but
	// read for what they say of every cluster, such as whether a deleted
	// Application keeps its resources.
	Fleet []render.File
}

// Change is one file that differs between the sides.
type Change struct {
	Path   string
	Status Status
	// From is the old path of a Renamed file.
	From string
	// Before and After are the file's contents; nil on the side that lacks
	// the file.
	Before, After []byte
}

// Changes lists the files that differ between before and after, sorted by
// path: the comparison `compile --check` needs, without masking or line
// diffs.
func Changes(before, after []render.File) []Change {
	b := index(before)
	a := index(after)
	var out []Change
	for p, data := range b {
		other, ok := a[p]
		switch {
		case !ok:
			out = append(out, Change{Path: p, Status: Removed, Before: data})
		case !bytes.Equal(data, other):
			out = append(out, Change{Path: p, Status: Changed, Before: data, After: other})
		}
	}
	for p, data := range a {
		if _, ok := b[p]; !ok {
			out = append(out, Change{Path: p, Status: Added, After: data})
		}
	}
	slices.SortFunc(out, func(x, y Change) int { return strings.Compare(x.Path, y.Path) })
	return out
}

func index(files []render.File) map[string][]byte {
	m := make(map[string][]byte, len(files))
	for _, f := range files {
		m[f.Path] = f.Data
	}
	return m
}

// Report is what a change does, ready to be formatted.
type Report struct {
	Summary Summary `json:"summary"`
	// Placement lists the (cluster, app) pairs that appear or disappear:
	// Argo CD Applications created or deleted. Prod clusters come first.
	// Those of a renamed cluster are its Rename instead.
	Placement []Placement `json:"placement"`
	// Renames are the clusters registered under a new name, prod first.
	Renames []Rename `json:"renames"`
	// Files lists every file that differs, with masked line hunks, sorted
	// by path.
	Files []File `json:"files"`
	// Groups are the hunks of Files with identical ones on several clusters
	// merged, in the order a reviewer reads them.
	Groups []Group `json:"-"`
}

// Empty reports whether the sides are the same.
func (r *Report) Empty() bool { return len(r.Files) == 0 }

// Summary counts what changes.
type Summary struct {
	Clusters Names `json:"clusters"`
	// Apps counts (cluster, app) pairs: added and removed ones are the
	// Placement, changed ones get new values.
	Apps  Tally `json:"apps"`
	Files Tally `json:"files"`
}

// Names lists what is added, removed and changed, sorted.
type Names struct {
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	Changed []string `json:"changed"`
	// Renamed names each renamed cluster as "old -> new"; neither name
	// is in Added or Removed.
	Renamed []string `json:"renamed,omitempty"`
}

// Tally counts what is added, removed and changed.
type Tally struct {
	Added   int `json:"added"`
	Removed int `json:"removed"`
	Changed int `json:"changed"`
	// Moved counts the apps, and the files, of renamed clusters that the
	// new name has too: in Added and Removed they would count twice.
	Moved int `json:"moved,omitempty"`
}

// Placement is an app that a cluster gets or loses.
type Placement struct {
	Status   Status `json:"status"`
	Cluster  string `json:"cluster"`
	Env      string `json:"env"`
	App      string `json:"app"`
	Category string `json:"category"`
	// Bundle is the bundle that deploys the app, where known.
	Bundle string `json:"bundle,omitempty"`
	// ResourcesKept says a removed Application leaves its resources
	// running, orphaned: its ApplicationSet preserves resources on
	// deletion.
	ResourcesKept bool `json:"resourcesKept,omitempty"`
}

// File is one output file that differs.
type File struct {
	Path   string `json:"path"`
	Status Status `json:"status"`
	Kind   Kind   `json:"kind"`
	// Cluster, Env, Category and App say whose file it is, where that
	// applies: fleet-wide files have no cluster.
	Cluster  string `json:"cluster,omitempty"`
	Env      string `json:"env,omitempty"`
	Category string `json:"category,omitempty"`
	App      string `json:"app,omitempty"`
	// From is the path a Renamed file had under the cluster's old name.
	From string `json:"from,omitempty"`
	// Hunks are the masked line changes. A changed file without hunks
	// differs only in how its YAML is written (quoting, comments) where
	// values are masked.
	Hunks []Hunk `json:"hunks"`
}

// Compare reports what changes from before to after.
func Compare(before, after Side) *Report {
	meta := newMeta(before, after)
	changes := pairRenamed(Changes(before.Files, after.Files), meta.renames)
	r := &Report{Files: make([]File, len(changes))}
	// A panic (a bug in masking or hunks) is raised again in the caller,
	// naming the file, where the command line reports it.
	fan.Each(len(changes), 0, func(i int) string { return "diff " + changes[i].Path }, func(i int) {
		c := changes[i]
		f := meta.file(c.Path)
		f.Status, f.From = c.Status, c.From
		mb, ma := MaskPair(c.Before, c.After)
		f.Hunks = unified(mb, ma)
		r.Files[i] = f
	})
	r.Summary = meta.summarize(r.Files)
	r.Placement = meta.placement()
	r.Renames = meta.renames
	if r.Renames == nil {
		r.Renames = []Rename{}
	}
	r.Groups = group(r.Files, meta.env)
	return r
}

// meta knows what each output path is on either side.
type meta struct {
	envs    map[string]string // cluster -> env
	bundles map[string]string // cluster + "/" + app -> bundle
	// clusters and apps present on each side: apps as cluster/category/app.
	before, after struct{ clusters, apps map[string]bool }
	// keeps says, per app, whether its ApplicationSet keeps the resources
	// of the Applications it deletes.
	keeps map[string]bool
	// renames are the renamed clusters, and moved the apps of each that
	// the new name gets too, as old/category/app and new/category/app.
	renames []Rename
	moved   map[string]bool
}

func newMeta(before, after Side) *meta {
	m := &meta{envs: map[string]string{}, bundles: map[string]string{}}
	// The compiled sides know best; after wins over before.
	for _, s := range []Side{after, before} {
		for _, o := range s.Outputs {
			if _, ok := m.envs[o.Cluster]; !ok {
				m.envs[o.Cluster] = o.Env
			}
			for _, a := range o.Apps {
				k := o.Cluster + "/" + a.Name
				if _, ok := m.bundles[k]; !ok {
					m.bundles[k] = a.Bundle
				}
			}
		}
	}
	for _, s := range []Side{after, before} {
		for _, f := range s.Files {
			kind, cluster, _, _ := classify(f.Path)
			if kind != Registration {
				continue
			}
			if _, ok := m.envs[cluster]; !ok {
				if env := envLabel(f.Data); env != "" {
					m.envs[cluster] = env
				}
			}
		}
	}
	m.before.clusters, m.before.apps = presence(before.Files)
	m.after.clusters, m.after.apps = presence(after.Files)
	m.keeps = keeps(before, after)
	m.findRenames(before, after)
	return m
}

// keeps reads, per app, whether its ApplicationSet keeps the resources of
// the Applications it deletes. A deleted Application was made by the
// ApplicationSet of the before side, and carries the finalizer that
// deletes its resources as that one said; a side without it (a new app)
// falls back on the other.
func keeps(before, after Side) map[string]bool {
	out := map[string]bool{}
	for _, s := range []Side{before, after} {
		for _, files := range [][]render.File{s.Files, s.Fleet} {
			for _, f := range files {
				kind, _, _, app := classify(f.Path)
				if _, done := out[app]; kind != ApplicationSet || done {
					continue
				}
				if keep, ok := preserves(f.Data); ok {
					out[app] = keep
				}
			}
		}
	}
	return out
}

// findRenames pairs removed and added clusters of one server, and the apps
// both names of each get.
func (m *meta) findRenames(before, after Side) {
	removed := onlyIn(m.before.clusters, m.after.clusters)
	added := onlyIn(m.after.clusters, m.before.clusters)
	if len(removed) == 0 || len(added) == 0 {
		return
	}
	m.renames = renames(removed, added, registrations(before.Files, removed), registrations(after.Files, added))
	m.moved = map[string]bool{}
	for i := range m.renames {
		r := &m.renames[i]
		r.Env = cmp.Or(m.envs[r.To], m.envs[r.From])
		r.ResourcesKept = true
		for k := range m.before.apps {
			cluster, rest, _ := strings.Cut(k, "/")
			if cluster != r.From || !m.after.apps[r.To+"/"+rest] {
				continue
			}
			m.moved[k], m.moved[r.To+"/"+rest] = true, true
			r.Apps++
			_, app, _ := strings.Cut(rest, "/")
			r.ResourcesKept = r.ResourcesKept && m.keeps[app]
		}
		if r.Apps == 0 {
			r.ResourcesKept = false
		}
	}
	slices.SortFunc(m.renames, func(a, b Rename) int { return compareEnvName(a.Env, a.From, b.Env, b.From) })
}

// presence lists the clusters and the (cluster, app) pairs of an output.
func presence(files []render.File) (clusters, apps map[string]bool) {
	clusters, apps = map[string]bool{}, map[string]bool{}
	for _, f := range files {
		kind, cluster, category, app := classify(f.Path)
		if cluster != "" {
			clusters[cluster] = true
		}
		if kind == Values {
			apps[cluster+"/"+category+"/"+app] = true
		}
	}
	return clusters, apps
}

func (m *meta) env(cluster string) string { return m.envs[cluster] }

func (m *meta) file(p string) File {
	kind, cluster, category, app := classify(p)
	return File{Path: p, Kind: kind, Cluster: cluster, Env: m.envs[cluster], Category: category, App: app}
}

func (m *meta) summarize(files []File) Summary {
	var s Summary
	renamed := map[string]bool{}
	for _, r := range m.renames {
		renamed[r.From], renamed[r.To] = true, true
		s.Clusters.Renamed = append(s.Clusters.Renamed, r.From+" -> "+r.To)
	}
	s.Clusters.Added = onlyIn(m.after.clusters, m.before.clusters)
	s.Clusters.Added = slices.DeleteFunc(s.Clusters.Added, func(c string) bool { return renamed[c] })
	s.Clusters.Removed = onlyIn(m.before.clusters, m.after.clusters)
	s.Clusters.Removed = slices.DeleteFunc(s.Clusters.Removed, func(c string) bool { return renamed[c] })
	notMoved := func(k string) bool { return !m.moved[k] }
	s.Apps.Added = countIf(onlyIn(m.after.apps, m.before.apps), notMoved)
	s.Apps.Removed = countIf(onlyIn(m.before.apps, m.after.apps), notMoved)
	s.Apps.Moved = len(m.moved) / 2
	changed := map[string]bool{}
	for _, f := range files {
		switch f.Status {
		case Added:
			s.Files.Added++
		case Removed:
			s.Files.Removed++
		case Changed:
			s.Files.Changed++
			if f.Kind == Values {
				s.Apps.Changed++
			}
		case Renamed:
			s.Files.Moved++
		}
		if f.Cluster != "" && m.before.clusters[f.Cluster] && m.after.clusters[f.Cluster] {
			changed[f.Cluster] = true
		}
	}
	s.Clusters.Changed = onlyIn(changed, nil)
	return s
}

// countIf counts the keys that keep holds for.
func countIf(keys []string, keep func(string) bool) int {
	n := 0
	for _, k := range keys {
		if keep(k) {
			n++
		}
	}
	return n
}

// onlyIn lists the keys of a that are not in b, sorted.
func onlyIn(a, b map[string]bool) []string {
	out := []string{}
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func (m *meta) placement() []Placement {
	var out []Placement
	for status, keys := range map[Status][]string{
		Added:   onlyIn(m.after.apps, m.before.apps),
		Removed: onlyIn(m.before.apps, m.after.apps),
	} {
		for _, k := range keys {
			if m.moved[k] {
				continue // said once, as its cluster's Rename
			}
			cluster, rest, _ := strings.Cut(k, "/")
			category, app, _ := strings.Cut(rest, "/")
			out = append(out, Placement{Status: status, Cluster: cluster, Env: m.envs[cluster],
				App: app, Category: category, Bundle: m.bundles[cluster+"/"+app],
				ResourcesKept: status == Removed && m.keeps[app]})
		}
	}
	slices.SortFunc(out, func(a, b Placement) int {
		if c := compareEnv(a.Env, b.Env); c != 0 {
			return c
		}
		return strings.Compare(a.Cluster+"\x00"+a.Category+"/"+a.App+"\x00"+string(a.Status),
			b.Cluster+"\x00"+b.Category+"/"+b.App+"\x00"+string(b.Status))
	})
	return out
}

// classify says what the output file at p is, from its path: the layout
// render writes.
func classify(p string) (kind Kind, cluster, category, app string) {
	if c, ok := render.RegistrationOf(p); ok {
		return Registration, c, "", ""
	}
	parts := strings.Split(p, "/")
	switch {
	case len(parts) == 5 && parts[0] == render.ValuesDir && parts[4] == "values.yaml":
		return Values, parts[1], parts[2], parts[3]
	case render.IsAppSetPath(p):
		return ApplicationSet, "", "", strings.TrimSuffix(path.Base(p), ".yaml")
	case len(parts) > 2 && parts[0] == render.ValuesDir:
		return Other, parts[1], "", ""
	}
	return Other, "", "", ""
}

// compareEnv orders envs from production down: prod first, then staging,
// other envs, dev, and unknown last; by name within a rank. What breaks
// production is read first.
func compareEnv(a, b string) int {
	return cmp.Or(cmp.Compare(envRank(a), envRank(b)), strings.Compare(a, b))
}

func envRank(env string) int {
	switch {
	case env == "":
		return 4
	case strings.HasPrefix(env, "prod"):
		return 0
	case strings.HasPrefix(env, "stag"):
		return 1
	case strings.HasPrefix(env, "dev"):
		return 3
	}
	return 2
}

// envLabel reads the env label off a registration: the value of an "env"
// key in a "labels" mapping, wherever in the object that is.
func envLabel(data []byte) string {
	docs, err := parse(data)
	if err != nil {
		return ""
	}
	var find func(n *yaml.Node) string
	find = func(n *yaml.Node) string {
		for _, e := range mappingEntries(n) {
			if e.name != "labels" {
				continue
			}
			for _, l := range mappingEntries(e.value) {
				if v := resolve(l.value); l.name == argocd.EnvLabel && v != nil && v.Kind == yaml.ScalarNode {
					return v.Value
				}
			}
		}
		for _, c := range n.Content {
			if env := find(c); env != "" {
				return env
			}
		}
		return ""
	}
	for _, d := range docs {
		if env := find(d); env != "" {
			return env
		}
	}
	return ""
}
