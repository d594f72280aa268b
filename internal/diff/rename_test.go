package diff

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/render"
)

// registered is tree with each cluster's registration saying its server
// (named after server, not the cluster) and its store key (keys, by
// cluster, else <prefix>/<cluster>), as an ExternalSecret does.
func registered(server map[string]string, keys map[string]string, cs ...cluster) Side {
	s := tree(cs...)
	for i, f := range s.Files {
		kind, name, _, _ := classify(f.Path)
		if kind != Registration {
			continue
		}
		key := keys[name]
		if key == "" {
			key = "platform/clusters/" + name
		}
		s.Files[i].Data = fmt.Appendf(slices.Clone(f.Data), "        server: %s\n  data:\n    - secretKey: token\n      remoteRef:\n        key: %s\n        property: bearerToken\n", server[name], key)
	}
	return s
}

// appSets are the ApplicationSets of apps, keeping resources on deletion
// or not.
func appSets(keep bool, apps ...string) []render.File {
	var out []render.File
	for _, app := range apps {
		obj := argocd.NewApplicationSet(argocd.App{Name: app, Bundle: "b"}, argocd.AppSetConfig{PreserveResourcesOnDeletion: keep})
		data, err := render.ApplicationSetYAML(obj, "")
		if err != nil {
			panic(err)
		}
		out = append(out, render.File{Path: render.AppSetPath(app), Data: data})
	}
	return out
}

func renamed(c cluster, name string) cluster {
	c.name = name
	return c
}

// A cluster renamed on the same server is one Rename, not its apps
// removed and added; apps only one name gets stay in the placement.
func TestCompareRename(t *testing.T) {
	servers := map[string]string{"sandbox-dev": "https://10.0.0.1:6443", "sandbox-fra1": "https://10.0.0.1:6443", "pay-prod": "https://pay:6443"}
	before := registered(servers, nil, prodA, devA)
	after := renamed(devA, "sandbox-fra1")
	after.apps = []string{"core/dns", "storage/velero"} // drops monitoring/vm, gets velero
	r := Compare(Side{Files: before.Files}, registered(servers, nil, prodA, after))

	want := []Rename{{From: "sandbox-dev", To: "sandbox-fra1", Env: "dev", Server: "https://10.0.0.1:6443", Apps: 1,
		StoreKeyBefore: "platform/clusters/sandbox-dev", StoreKeyAfter: "platform/clusters/sandbox-fra1"}}
	if !slices.Equal(r.Renames, want) {
		t.Errorf("renames:\n got %+v\nwant %+v", r.Renames, want)
	}
	s := r.Summary
	if fmt.Sprint(s.Clusters.Added, s.Clusters.Removed, s.Clusters.Renamed) != "[] [] [sandbox-dev -> sandbox-fra1]" {
		t.Errorf("clusters = %+v", s.Clusters)
	}
	if s.Apps != (Tally{Added: 1, Removed: 1, Moved: 1}) {
		t.Errorf("apps = %+v", s.Apps)
	}
	var got []string
	for _, p := range r.Placement {
		got = append(got, fmt.Sprintf("%s %s %s/%s", p.Status, p.Cluster, p.Category, p.App))
	}
	if want := []string{"removed sandbox-dev monitoring/vm", "added sandbox-fra1 storage/velero"}; !slices.Equal(got, want) {
		t.Errorf("placement = %q, want %q", got, want)
	}
	// The files both names have are renamed, the same but for the name;
	// the others come and go.
	got = nil
	for _, f := range r.Files {
		got = append(got, fmt.Sprintf("%s %s %s %d", f.Status, f.Path, f.From, len(f.Hunks)))
	}
	want2 := []string{
		"renamed argocd/clusters/sandbox-fra1.yaml argocd/clusters/sandbox-dev.yaml 0",
		"renamed cluster/sandbox-fra1/core/dns/values.yaml cluster/sandbox-dev/core/dns/values.yaml 0",
		"added cluster/sandbox-fra1/storage/velero/values.yaml  1",
		"removed cluster/sandbox-dev/monitoring/vm/values.yaml  1",
	}
	slices.Sort(got)
	slices.Sort(want2)
	if !slices.Equal(got, want2) {
		t.Errorf("files:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want2, "\n"))
	}
	if s.Files != (Tally{Added: 1, Removed: 1, Moved: 2}) {
		t.Errorf("files = %+v", s.Files)
	}
}

// A renamed file reads each side's name as the placeholder only in the
// lines that differ: text that merely holds the old name (the server's
// host) and stays is no change, and a real change shows.
func TestWithoutNames(t *testing.T) {
	before := "name: dev-1\nserver: https://dev-1.corp\nkey: vault/dev-1\nretention: 7d\n"
	after := "name: dev-fra\nserver: https://dev-1.corp\nkey: vault/dev-fra\nretention: 14d\n"
	b, a, ok := withoutNames([]byte(before), []byte(after), "dev-1", "dev-fra")
	if !ok {
		t.Fatal("not renamed")
	}
	hunks := unified(b, a)
	if len(hunks) != 1 || strings.Join(hunks[0].Lines, "\n") != " name: <cluster>\n server: https://dev-1.corp\n key: vault/<cluster>\n-retention: 7d\n+retention: 14d" {
		t.Errorf("hunks = %+v", hunks)
	}
	if _, _, ok := withoutNames([]byte("a: <cluster>\n"), []byte(after), "dev-1", "dev-fra"); ok {
		t.Error("a file that holds the placeholder was renamed")
	}
}

// The store key stays when the cluster sets its own; the rename keeps
// the resources when the ApplicationSets of its apps do.
func TestCompareRenameKeyAndResources(t *testing.T) {
	servers := map[string]string{"sandbox-dev": "https://10.0.0.1:6443", "sandbox-fra1": "https://10.0.0.1:6443"}
	keys := map[string]string{"sandbox-dev": "vault/sandbox", "sandbox-fra1": "vault/sandbox"}
	before := registered(servers, keys, devA)
	before.Files = append(before.Files, appSets(true, "dns", "vm")...)
	after := registered(servers, keys, renamed(devA, "sandbox-fra1"))
	after.Files = append(after.Files, appSets(true, "dns", "vm")...)
	r := Compare(before, after)
	if len(r.Renames) != 1 || !r.Renames[0].ResourcesKept || r.Renames[0].Apps != 2 || r.Renames[0].StoreKeyBefore != r.Renames[0].StoreKeyAfter {
		t.Errorf("renames = %+v, want one of 2 apps, resources kept, one store key", r.Renames)
	}
	if len(r.Placement) != 0 {
		t.Errorf("placement = %+v, want none: the rename says it", r.Placement)
	}
	// One app's set deletes resources: the rename as a whole does.
	before.Files = append(before.Files[:len(before.Files)-2], appSets(true, "dns")...)
	before.Files = append(before.Files, appSets(false, "vm")...)
	if r := Compare(before, after); len(r.Renames) != 1 || r.Renames[0].ResourcesKept {
		t.Errorf("renames = %+v, want resources not kept", r.Renames)
	}
}

// Not renames: a new server, or a server two clusters of a side share.
func TestCompareNotRename(t *testing.T) {
	before := registered(map[string]string{"sandbox-dev": "https://a:6443"}, nil, devA)
	after := registered(map[string]string{"sandbox-fra1": "https://b:6443"}, nil, renamed(devA, "sandbox-fra1"))
	if r := Compare(before, after); len(r.Renames) != 0 || len(r.Summary.Clusters.Added) != 1 {
		t.Errorf("a new server: renames = %+v, clusters = %+v", r.Renames, r.Summary.Clusters)
	}
	shared := map[string]string{"sandbox-dev": "https://a:6443", "stage-1": "https://a:6443", "sandbox-fra1": "https://a:6443", "stage-2": "https://a:6443"}
	before = registered(shared, nil, devA, stgA)
	after = registered(shared, nil, renamed(devA, "sandbox-fra1"), renamed(stgA, "stage-2"))
	if r := Compare(before, after); len(r.Renames) != 0 {
		t.Errorf("a shared server: renames = %+v", r.Renames)
	}
}

// Applications that disappear keep their resources as the ApplicationSet
// that made them says: the base's, or, when the comparison is cut down
// to some clusters, the one in Fleet.
func TestCompareOrphaned(t *testing.T) {
	shrunk := prodA
	shrunk.apps = []string{"core/dns"}
	for _, tt := range []struct {
		name          string
		before, after Side
		want          bool
	}{
		{"kept", Side{Files: append(tree(prodA).Files, appSets(true, "vm")...)}, tree(shrunk), true},
		{"deleted", Side{Files: append(tree(prodA).Files, appSets(false, "vm")...)}, Side{Files: append(tree(shrunk).Files, appSets(true, "vm")...)}, false},
		{"kept, from Fleet", Side{Files: tree(prodA).Files, Fleet: appSets(true, "vm")}, tree(shrunk), true},
		{"unknown: deleted", tree(prodA), tree(shrunk), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := Compare(tt.before, tt.after)
			if len(r.Placement) != 1 || r.Placement[0].ResourcesKept != tt.want {
				t.Fatalf("placement = %+v, want one removed, resources kept %v", r.Placement, tt.want)
			}
			if g := GroupPlacement(r.Placement); len(g) != 1 || g[0].ResourcesKept != tt.want {
				t.Errorf("groups = %+v", g)
			}
		})
	}
}

func TestReadRegistration(t *testing.T) {
	for _, tt := range []struct{ doc, want string }{
		{"kind: Secret\nstringData:\n  name: a\n  server: https://a:6443\n", "{https://a:6443 }"},
		{"kind: ExternalSecret\nspec:\n  target:\n    template:\n      data:\n        server: https://a\n  data:\n  - remoteRef: {key: k/a, property: p}\n", "{https://a k/a}"},
		// A server elsewhere (a label, a comment) is not the cluster's.
		{"metadata:\n  labels:\n    server: x\n", "{ }"},
		{"not: [yaml", "{ }"},
	} {
		if got := strings.TrimSpace(fmt.Sprint(readRegistration([]byte(tt.doc)))); got != tt.want {
			t.Errorf("%q: got %s, want %s", tt.doc, got, tt.want)
		}
	}
}

// A rename whose server is respelled (host case, default port, trailing
// slash) is still a rename: servers compare as compile's duplicate check
// compares them (argocd.ServerKey).
func TestCompareRenameServerRespelled(t *testing.T) {
	for _, respelled := range []string{"https://API.payments-prod.k8s.corp.local/", "https://api.payments-prod.k8s.corp.local:443", "https://Api.Payments-Prod.k8s.corp.local:443//"} {
		before := registered(map[string]string{"pay-prod": "https://api.payments-prod.k8s.corp.local"}, nil, prodA)
		after := registered(map[string]string{"pay-prod-2": respelled}, nil, renamed(prodA, "pay-prod-2"))
		r := Compare(before, after)
		if len(r.Renames) != 1 || r.Renames[0].From != "pay-prod" || r.Renames[0].To != "pay-prod-2" {
			t.Errorf("server %s: renames = %+v, clusters = %+v, want pay-prod -> pay-prod-2", respelled, r.Renames, r.Summary.Clusters)
		}
	}
	// Another port is another server.
	before := registered(map[string]string{"pay-prod": "https://api.payments-prod.k8s.corp.local"}, nil, prodA)
	after := registered(map[string]string{"pay-prod-2": "https://api.payments-prod.k8s.corp.local:6443"}, nil, renamed(prodA, "pay-prod-2"))
	if r := Compare(before, after); len(r.Renames) != 0 {
		t.Errorf("another port: renames = %+v", r.Renames)
	}
}
