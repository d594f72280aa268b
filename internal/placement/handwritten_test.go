package placement

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"cuelang.org/go/cue/token"
)

const twoSets = `# Two ApplicationSets and something else.
apiVersion: v1
kind: ConfigMap
metadata:
  name: not-an-appset
---
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: team-tools
spec:
  goTemplate: true
  generators:
    - list:
        elements: []
    - clusters:
        selector:
          matchLabels:
            team: payments
          matchExpressions:
            - key: region
              operator: In
              values: [fra1, fra2]
  template:
    metadata:
      name: '{{.name}}-team-tools'
    spec:
      project: default
---
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: everywhere
spec:
  generators:
    - clusters: {}
`

func TestParseHandwritten(t *testing.T) {
	sets, ds := ParseHandwritten("/p/argocd/handwritten/x.yaml", "argocd/handwritten/x.yaml", []byte(twoSets))
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	if len(sets) != 2 {
		t.Fatalf("got %d sets, want 2", len(sets))
	}
	at := func(line, col int) token.Position {
		return token.Position{Filename: "/p/argocd/handwritten/x.yaml", Line: line, Column: col}
	}
	s := sets[0]
	if s.Object.Metadata.Name != "team-tools" || s.Source != "argocd/handwritten/x.yaml" || s.Pos != at(10, 9) {
		t.Errorf("set = %q from %q at %v", s.Object.Metadata.Name, s.Source, s.Pos)
	}
	if g := s.Object.Spec.Generators; len(g) != 2 || g[0].Clusters != nil || g[1].Clusters == nil {
		t.Fatalf("generators = %+v, want a list and a clusters generator", g)
	}
	sel := s.Object.Spec.Generators[1].Clusters.Selector
	if sel.MatchLabels["team"] != "payments" || len(sel.MatchExpressions) != 1 || !slices.Equal(sel.MatchExpressions[0].Values, []string{"fra1", "fra2"}) {
		t.Errorf("selector = %+v", sel)
	}
	gp := s.Generators[1]
	if gp.Pos != at(16, 7) || gp.Keys["team"] != at(19, 13) || gp.Keys["region"] != at(21, 20) {
		t.Errorf("generator at %v, keys %v", gp.Pos, gp.Keys)
	}
	if s.TemplateName != at(26, 13) {
		t.Errorf("template name at %v", s.TemplateName)
	}
	if e := sets[1]; e.Object.Metadata.Name != "everywhere" || len(e.Object.Spec.Generators) != 1 || e.Object.Spec.Generators[0].Clusters == nil {
		t.Errorf("second set = %+v", e.Object)
	}
}

func TestParseHandwrittenErrors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{{
		name: "syntax",
		data: "kind: ApplicationSet\nmetadata: [\n",
		want: "x.yaml:2:1: not a valid ApplicationSet: did not find expected node content",
	}, {
		name: "types",
		data: "kind: ApplicationSet\nmetadata:\n  name: a\nspec:\n  goTemplate: maybe\n",
		want: "x.yaml:5:1: not a valid ApplicationSet: cannot unmarshal !!str `maybe` into bool",
	}, {
		name: "no name",
		data: "kind: ApplicationSet\nspec: {}\n",
		want: "x.yaml:1:1: ApplicationSet without metadata.name",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ds := ParseHandwritten("x.yaml", "x.yaml", []byte(tt.data))
			var got []string
			for _, d := range ds {
				got = append(got, d.Format(""))
			}
			if strings.Join(got, "\n") != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadHandwritten(t *testing.T) {
	root := t.TempDir()
	if sets, ds, err := ReadHandwritten(root, "argocd/handwritten"); err != nil || len(sets)+len(ds) > 0 {
		t.Fatalf("missing directory: %v %v %v, want nothing", sets, ds, err)
	}
	dir := filepath.Join(root, "argocd", "handwritten", "team")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"a.yaml": twoSets, "README.md": "not yaml: [", "b.yml": "kind: ApplicationSet\nmetadata: {name: b}\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sets, ds, err := ReadHandwritten(root, "argocd/handwritten")
	if err != nil || len(ds) > 0 {
		t.Fatal(err, ds)
	}
	var names []string
	for _, s := range sets {
		names = append(names, s.Source+":"+s.Object.Metadata.Name)
	}
	want := []string{"argocd/handwritten/team/a.yaml:team-tools", "argocd/handwritten/team/a.yaml:everywhere", "argocd/handwritten/team/b.yml:b"}
	if !slices.Equal(names, want) {
		t.Errorf("got %v, want %v", names, want)
	}
}
