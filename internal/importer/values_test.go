package importer_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/fleetc/fleetc/internal/importer"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/output"
	"github.com/fleetc/fleetc/internal/testplatform"
	"github.com/fleetc/fleetc/internal/valuesgen"
)

// migration is a generated old fleet (its values tree and Secrets) and a
// copy of the reference platform whose clusters are those Secrets,
// imported.
type migration struct {
	old, platform string
}

// newMigration generates n clusters and imports their registrations
// into a copy of the reference platform without its own clusters.
func newMigration(t testing.TB, n int, seed uint64, opts valuesgen.Options) migration {
	t.Helper()
	m := migration{old: t.TempDir(), platform: t.TempDir()}
	if err := valuesgen.Write(testplatform.Repo(), t.TempDir(), m.old, n, seed, opts); err != nil {
		t.Fatal(err)
	}
	if err := testplatform.Copy(m.platform); err != nil {
		t.Fatal(err)
	}
	clusters := filepath.Join(m.platform, load.ClustersDir)
	entries, _ := os.ReadDir(clusters)
	for _, e := range entries {
		if e.Name() != "platform.cue" {
			os.Remove(filepath.Join(clusters, e.Name()))
		}
	}
	p, err := load.Load(load.Config{Dir: m.platform, AllowEmpty: true})
	if err != nil {
		t.Fatal(err)
	}
	voc, err := importer.ReadVocabulary(p)
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := os.ReadFile(filepath.Join(m.old, "secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := importer.ArgoCDSecrets(secrets, labels.Everything(), voc)
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range res.Problems {
		if pr.Skipped {
			t.Fatalf("import argocd: %s", pr)
		}
	}
	for _, c := range res.Clusters {
		data, err := importer.File(c)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(clusters, c.Name+".cue"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// inputs reads what import values starts from: the values tree at dir
// (named as shown) and the platform as it is now.
func (m migration) inputs(t testing.TB, dir, shown string) (*importer.ValuesTree, *load.Platform) {
	t.Helper()
	tree, err := importer.ReadValuesTree(dir, shown)
	if err != nil {
		t.Fatal(err)
	}
	p, err := load.Load(load.Config{Dir: m.platform})
	if err != nil {
		t.Fatal(err)
	}
	return tree, p
}

// importValues runs import values on m and writes its files.
func (m migration) importValues(t testing.TB, opts importer.ValuesOptions) (*importer.ValuesImport, []importer.Difference) {
	t.Helper()
	tree, p := m.inputs(t, m.old, "")
	imp, err := importer.Values(p, tree, opts)
	if err != nil {
		t.Fatal(err)
	}
	diffs, err := imp.Prove(m.platform)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range imp.Files {
		if err := output.WriteSource(f.Path, f.Data, true); err != nil {
			t.Fatal(err)
		}
	}
	return imp, diffs
}

// TestValuesRoundTrip imports the values tree of 30 generated clusters
// (names inside strings, env settings, sporadic overrides, keys only some
// clusters have, lists that differ, types that differ, an app new to the
// catalog) and requires every values file reproduced exactly; a second
// import changes nothing.
func TestValuesRoundTrip(t *testing.T) {
	m := newMigration(t, 36, 17, valuesgen.Options{})
	imp, diffs := m.importValues(t, importer.ValuesOptions{Bundles: map[string]string{valuesgen.NewApp: valuesgen.NewBundle}})
	for _, d := range diffs {
		t.Errorf("differs: %s", d)
	}
	s := imp.Stats
	t.Logf("%s", imp.Summary())
	if s.Interpolations == 0 || s.EnvSettings == 0 || s.PerCluster == 0 || s.Overrides == 0 || s.Literals == 0 {
		t.Errorf("the generated tree should need every kind of setting: %+v", s)
	}
	core, err := os.ReadFile(filepath.Join(m.platform, "defs", "core.cue"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`apps: "stakater-reloader"`, `\(_c.name)`} {
		if !strings.Contains(string(core), want) {
			t.Errorf("defs/core.cue lacks %s", want)
		}
	}
	again, diffs := m.importValues(t, importer.ValuesOptions{Bundles: map[string]string{valuesgen.NewApp: valuesgen.NewBundle}})
	for _, d := range diffs {
		t.Errorf("second import differs: %s", d)
	}
	for _, f := range again.Files {
		t.Errorf("a second import changes %s", f.Path)
	}
}

// TestValuesProofFails: the proof is not a formality. A catalog entry
// changed after the import makes exactly that app's files differ, with
// the path and both values named.
func TestValuesProofFails(t *testing.T) {
	m := newMigration(t, 6, 3, valuesgen.Options{})
	tree, p := m.inputs(t, m.old, "")
	imp, err := importer.Values(p, tree, importer.ValuesOptions{Bundles: map[string]string{valuesgen.NewApp: valuesgen.NewBundle}})
	if err != nil {
		t.Fatal(err)
	}
	changed := false
	for i, f := range imp.Files {
		if strings.HasSuffix(f.Path, "security.cue") {
			before := string(f.Data)
			imp.Files[i].Data = []byte(strings.Replace(before, `effect:   "NoSchedule"`, `effect:   "NoExecute"`, 1))
			changed = before != string(imp.Files[i].Data)
		}
	}
	if !changed {
		t.Fatal("defs/security.cue has no literal effect to change")
	}
	diffs, err := imp.Prove(m.platform)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) == 0 {
		t.Fatal("the proof found no difference")
	}
	for _, d := range diffs {
		if !strings.Contains(d.Path, "/security/") || !strings.Contains(d.Why, `want "NoSchedule", got "NoExecute"`) {
			t.Errorf("difference %s", d)
		}
	}
}

// TestValuesUnusedAndBundles: values of an app whose bundle a cluster
// does not enable are reported and not reproduced; the bundle of an app
// new to the catalog is the one exactly its clusters enable, and an app
// whose bundle cannot be told is an error that says how to tell it.
func TestValuesUnusedAndBundles(t *testing.T) {
	m := newMigration(t, 12, 5, valuesgen.Options{Unused: true})
	tree, p := m.inputs(t, filepath.Join(m.old, importer.ValuesDir), "")
	_, err := importer.Values(p, tree, importer.ValuesOptions{})
	if err == nil || !strings.Contains(err.Error(), "app stakater-reloader is not in the catalog and its bundle cannot be told") ||
		!strings.Contains(err.Error(), "give --bundle stakater-reloader=<bundle>") {
		t.Fatalf("error %v", err)
	}
	// A new app on exactly the clusters with storage-basic.
	var storage int
	for _, in := range tree.Files {
		if in.App == "velero" {
			storage++
			dir := filepath.Join(m.old, importer.ValuesDir, in.Cluster, "storage", "backup-checker")
			os.MkdirAll(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "values.yaml"), []byte("checker:\n  bucket: velero-"+in.Cluster+"\n"), 0o644)
		}
	}
	if storage == 0 || storage == 12 {
		t.Fatalf("%d of 12 clusters have storage-basic: the test needs some", storage)
	}
	m2 := m
	imp, diffs := m2.importValues(t, importer.ValuesOptions{Bundles: map[string]string{valuesgen.NewApp: valuesgen.NewBundle}})
	for _, d := range diffs {
		t.Errorf("differs: %s", d)
	}
	if len(imp.Unused) == 0 {
		t.Error("no values file reported unused")
	}
	for _, u := range imp.Unused {
		if !strings.Contains(u, "/finops/goldilocks/values.yaml: cluster ") || !strings.HasSuffix(u, "does not enable bundle finops-basic") {
			t.Errorf("unused %s", u)
		}
	}
	found := false
	for _, a := range imp.Apps {
		if a.Name == "backup-checker" {
			found = true
			if a.Bundle != "storage-basic" || !a.New || a.Clusters != storage {
				t.Errorf("backup-checker: %+v", a)
			}
		}
	}
	if !found {
		t.Error("backup-checker not imported")
	}
}

// TestValuesEdgeCases round-trips values that are hard to say in CUE:
// keys that are keywords or need quotes, strings with interpolation
// syntax, quotes, newlines and non-ASCII, empty collections, null,
// floats, large integers, booleans as strings, a key whose value is a
// mapping on one cluster and a string on another, a list of mappings with
// a key only some items have, several top-level keys.
func TestValuesEdgeCases(t *testing.T) {
	m := newMigration(t, 3, 9, valuesgen.Options{})
	clusters, _ := os.ReadDir(filepath.Join(m.old, importer.ValuesDir))
	if len(clusters) != 3 {
		t.Fatalf("%d clusters", len(clusters))
	}
	for i, c := range clusters {
		name := c.Name()
		src := `if: {for: 1, "in": true}
"a.b/c": '\(x) "quoted" ` + "`tick`" + ` \\'
"esc": "tab\there \u00e9"
multi: |
  line one
  line two of ` + name + `
unicode: "grüße ✓"
empty: {}
none: []
nothing: null
float: 1.5e3
big: 18446744073709551615
neg: -9223372036854775808
truthy: "true"
octal: 0o17
shape: ` + []string{"{a: 1}", "plain", "{a: 1}"}[i] + `
other: ` + []string{"plain", "plain", "{a: {b: [1]}}"}[i] + `
items:
- name: a
  value: ` + []string{"x", "y", "x"}[i] + `
- name: b
` + []string{"  extra: 1\n", "", ""}[i] + `host: ` + name + `.example.com
`
		dir := filepath.Join(m.old, importer.ValuesDir, name, "core", "edge-app")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, importer.ValuesFile), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	imp, diffs := m.importValues(t, importer.ValuesOptions{Bundles: map[string]string{valuesgen.NewApp: valuesgen.NewBundle, "edge-app": "core-basic"}})
	for _, d := range diffs {
		t.Errorf("differs: %s", d)
	}
	if len(diffs) > 0 {
		for _, f := range imp.Files {
			if strings.HasSuffix(f.Path, "core.cue") {
				t.Logf("%s", f.Data)
			}
		}
	}
}

// TestValuesClusters: the clusters of the tree must have files; --labels
// gives a cluster's env and bundles, and its file says them afterwards.
func TestValuesClusters(t *testing.T) {
	m := newMigration(t, 4, 11, valuesgen.Options{})
	tree, p := m.inputs(t, m.old, "old")
	first := tree.Files[0].Cluster
	labels := map[string]string{"env": "prod", "core-basic": "enabled", "security-basic": "enabled"}
	for _, in := range tree.Files {
		if in.Cluster != first {
			continue
		}
		switch in.Category {
		case "monitoring":
			labels["monitoring-basic"] = "enabled"
			if in.App == "grafana" {
				labels["monitoring-medium"] = "enabled"
			}
		case "finops":
			labels["finops-basic"] = "enabled"
		case "storage":
			labels["storage-basic"] = "enabled"
		}
	}
	for _, tc := range []struct {
		labels map[string]string
		err    string
	}{
		{map[string]string{"env": "qa"}, "--labels " + first + ": env qa is not an env of the platform"},
		{map[string]string{"env": "dev", "grafana": "enabled"}, "--labels " + first + ": grafana is neither env nor a bundle"},
		{map[string]string{"env": "dev", "storage-basic": "on"}, "--labels " + first + ": storage-basic=on: a bundle is on with storage-basic=enabled"},
	} {
		_, err := importer.Values(p, tree, importer.ValuesOptions{Labels: map[string]map[string]string{first: tc.labels}})
		if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
			t.Errorf("%v: error %v, want %s", tc.labels, err, tc.err)
		}
	}
	_, diffs := m.importValues(t, importer.ValuesOptions{
		Bundles: map[string]string{valuesgen.NewApp: valuesgen.NewBundle},
		Labels:  map[string]map[string]string{first: labels},
	})
	for _, d := range diffs {
		t.Errorf("differs: %s", d)
	}
	src, err := os.ReadFile(filepath.Join(m.platform, "clusters", first+".cue"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), `env: "prod"`) {
		t.Errorf("%s.cue does not say the env --labels gave:\n%s", first, src)
	}

	// A cluster with values but no file.
	os.Remove(filepath.Join(m.platform, "clusters", first+".cue"))
	p, err = load.Load(load.Config{Dir: m.platform})
	if err != nil {
		t.Fatal(err)
	}
	_, err = importer.Values(p, tree, importer.ValuesOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), "no cluster file for "+first+" in clusters/: import the clusters' registrations first") {
		t.Errorf("error %v", err)
	}
}

// TestValuesRenamedCluster: the values directory of a cluster named
// after what import argocd could not take as a name (C00001_Staging) are
// the values of the cluster it was imported as.
func TestValuesRenamedCluster(t *testing.T) {
	m := newMigration(t, 4, 13, valuesgen.Options{})
	dir := filepath.Join(m.old, importer.ValuesDir)
	if err := os.Rename(filepath.Join(dir, "c00001-staging"), filepath.Join(dir, "C00001_Staging")); err != nil {
		t.Fatal(err)
	}
	imp, diffs := m.importValues(t, importer.ValuesOptions{Bundles: map[string]string{valuesgen.NewApp: valuesgen.NewBundle}})
	for _, d := range diffs {
		t.Errorf("differs: %s", d)
	}
	if len(imp.Renamed) != 1 || !strings.Contains(imp.Renamed[0], "cluster/C00001_Staging: the values of cluster c00001-staging") {
		t.Errorf("renamed %q", imp.Renamed)
	}
}

// TestCompareTrees: comparing two trees (the testscripts' valuesdiff)
// ignores key order and names each file that differs, with the first
// path that does, or that only one tree has.
func TestCompareTrees(t *testing.T) {
	write := func(dir string, files map[string]string) *importer.ValuesTree {
		t.Helper()
		for rel, src := range files {
			path := filepath.Join(dir, importer.ValuesDir, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		tree, err := importer.ReadValuesTree(dir, filepath.Base(dir))
		if err != nil {
			t.Fatal(err)
		}
		return tree
	}
	want := write(filepath.Join(t.TempDir(), "want"), map[string]string{
		"a/core/same/values.yaml":  "x: 1\ny: [a, b]\n",
		"a/core/diff/values.yaml":  "x: {y: 3}\n",
		"a/core/wonly/values.yaml": "x: 1\n",
	})
	got := write(filepath.Join(t.TempDir(), "got"), map[string]string{
		"a/core/same/values.yaml":  "y: [a, b]\nx: 1\n",
		"a/core/diff/values.yaml":  "x: {y: 3.0}\n",
		"a/core/gonly/values.yaml": "x: 1\n",
	})
	var lines []string
	for _, d := range importer.CompareTrees(want, got) {
		lines = append(lines, d.String())
	}
	wantLines := []string{
		"cluster/a/core/diff/values.yaml: x.y: want 3, got 3 (float)",
		"cluster/a/core/gonly/values.yaml: only in got/cluster",
		"cluster/a/core/wonly/values.yaml: only in want/cluster",
	}
	if strings.Join(lines, "\n") != strings.Join(wantLines, "\n") {
		t.Errorf("differences:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(wantLines, "\n"))
	}
}
