package argocd

import (
	"maps"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
)

func TestSelector(t *testing.T) {
	prod := labels.Set{"env": "prod", "core-basic": "enabled", "team": "payments"}
	dev := labels.Set{"env": "dev", "core-basic": "enabled"}
	tests := []struct {
		name      string
		sel       LabelSelector
		prod, dev bool
		err       bool
	}{
		{name: "empty selects everything", sel: LabelSelector{}, prod: true, dev: true},
		{name: "matchLabels", sel: LabelSelector{MatchLabels: map[string]string{"env": "prod", "core-basic": "enabled"}}, prod: true},
		{name: "In", sel: LabelSelector{MatchExpressions: []LabelRequirement{{Key: "env", Operator: OpIn, Values: []string{"dev", "prod"}}}}, prod: true, dev: true},
		{name: "NotIn", sel: LabelSelector{MatchExpressions: []LabelRequirement{{Key: "env", Operator: OpNotIn, Values: []string{"prod"}}}}, dev: true},
		{name: "Exists", sel: LabelSelector{MatchExpressions: []LabelRequirement{{Key: "team", Operator: OpExists}}}, prod: true},
		{name: "DoesNotExist", sel: LabelSelector{MatchExpressions: []LabelRequirement{{Key: "team", Operator: OpDoesNotExist}}}, dev: true},
		{name: "both must hold", sel: LabelSelector{
			MatchLabels:      map[string]string{"core-basic": "enabled"},
			MatchExpressions: []LabelRequirement{{Key: "env", Operator: OpIn, Values: []string{"dev"}}},
		}, dev: true},
		{name: "unknown operator", sel: LabelSelector{MatchExpressions: []LabelRequirement{{Key: "env", Operator: "in", Values: []string{"dev"}}}}, err: true},
		{name: "In without values", sel: LabelSelector{MatchExpressions: []LabelRequirement{{Key: "env", Operator: OpIn}}}, err: true},
		{name: "Exists with values", sel: LabelSelector{MatchExpressions: []LabelRequirement{{Key: "env", Operator: OpExists, Values: []string{"x"}}}}, err: true},
		{name: "invalid key", sel: LabelSelector{MatchLabels: map[string]string{"not a key": "x"}}, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := tt.sel.Selector()
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if got := sel.Matches(prod); got != tt.prod {
				t.Errorf("matches prod = %v, want %v", got, tt.prod)
			}
			if got := sel.Matches(dev); got != tt.dev {
				t.Errorf("matches dev = %v, want %v", got, tt.dev)
			}
		})
	}
}

func TestNewApplicationSetSyncPolicy(t *testing.T) {
	app := App{Name: "crds", Bundle: "b", Chart: "c/crds", Namespace: "c", ValuesFile: "out/cluster/" + ClusterNameParam + "/c/crds/values.yaml"}
	cfg := AppSetConfig{Namespace: "argocd", Project: "p", Envs: []EnvRevisions{{"dev", "development", "development"}}, SyncOptions: []string{CreateNamespaceOption}}

	set := NewApplicationSet(app, cfg)
	if p := set.Spec.Template.Spec.SyncPolicy; p == nil || p.Automated != nil || !slices.Equal(p.SyncOptions, []string{CreateNamespaceOption}) {
		t.Errorf("manual sync: policy %+v", p)
	}
	if set.Spec.SyncPolicy != nil {
		t.Errorf("ApplicationSet sync policy %+v, want none", set.Spec.SyncPolicy)
	}

	app.ServerSideApply = true
	cfg.Prune, cfg.PreserveResourcesOnDeletion = true, true
	set = NewApplicationSet(app, cfg)
	p := set.Spec.Template.Spec.SyncPolicy
	if p.Automated == nil || !p.Automated.Prune || p.Automated.SelfHeal || !slices.Equal(p.SyncOptions, []string{CreateNamespaceOption, ServerSideApplyOption}) {
		t.Errorf("server-side apply: policy %+v %+v", p, p.Automated)
	}
	if len(cfg.SyncOptions) != 1 {
		t.Errorf("the shared sync options were changed: %v", cfg.SyncOptions)
	}
	if set.Spec.SyncPolicy == nil || !set.Spec.SyncPolicy.PreserveResourcesOnDeletion {
		t.Errorf("ApplicationSet sync policy %+v", set.Spec.SyncPolicy)
	}
	if got := set.Spec.Template.Spec.Sources[1].Helm.ValueFiles[1]; got != "$valuesRepo/out/cluster/{{.name}}/c/crds/values.yaml" {
		t.Errorf("value file %q", got)
	}
}

// TestSourceRevisions: each source of the Application template takes the
// revision its env says, through the fewest generator values; envs that
// follow one branch for both repositories keep the single `branch` value.
func TestSourceRevisions(t *testing.T) {
	type gen = map[string]string
	tests := []struct {
		name             string
		envs             []EnvRevisions
		values           []gen
		catalog, valuesS string
	}{
		{"one branch per env", []EnvRevisions{{"dev", "development", "development"}, {"prod", "main", "main"}},
			[]gen{{"branch": "development"}, {"branch": "main"}}, "{{.values.branch}}", "{{.values.branch}}"},
		{"the write-up: catalog at HEAD, values at main", []EnvRevisions{{"dev", "", "main"}, {"prod", "", "main"}},
			[]gen{nil, nil}, "", "main"},
		{"values pinned, catalog per env", []EnvRevisions{{"dev", "development", "main"}, {"prod", "main", "main"}},
			[]gen{{"catalogRevision": "development"}, {"catalogRevision": "main"}}, "{{.values.catalogRevision}}", "main"},
		{"both per env", []EnvRevisions{{"dev", "development", "dev-values"}, {"prod", "v1.2.0", "main"}},
			[]gen{{"catalogRevision": "development", "valuesRevision": "dev-values"}, {"catalogRevision": "v1.2.0", "valuesRevision": "main"}},
			"{{.values.catalogRevision}}", "{{.values.valuesRevision}}"},
		{"one env, two revisions", []EnvRevisions{{"dev", "v1.2.0", "main"}}, []gen{nil}, "v1.2.0", "main"},
		{"HEAD everywhere", []EnvRevisions{{"dev", "", ""}}, []gen{{"branch": ""}}, "{{.values.branch}}", "{{.values.branch}}"},
	}
	app := App{Name: "a", Bundle: "b", Chart: "c/a", Namespace: "c", ValuesFile: "v.yaml"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := NewApplicationSet(app, AppSetConfig{Envs: tt.envs})
			if len(set.Spec.Generators) != len(tt.envs) {
				t.Fatalf("%d generators for %d envs", len(set.Spec.Generators), len(tt.envs))
			}
			for i, g := range set.Spec.Generators {
				if !maps.Equal(g.Clusters.Values, tt.values[i]) || (g.Clusters.Values == nil) != (tt.values[i] == nil) {
					t.Errorf("env %s: values %v, want %v", tt.envs[i].Env, g.Clusters.Values, tt.values[i])
				}
			}
			src := set.Spec.Template.Spec.Sources
			if src[0].Ref != ValuesRef || src[0].TargetRevision != tt.valuesS {
				t.Errorf("values source %+v, want targetRevision %q", src[0], tt.valuesS)
			}
			if src[1].Path != app.Chart || src[1].TargetRevision != tt.catalog {
				t.Errorf("catalog source %+v, want targetRevision %q", src[1], tt.catalog)
			}
			// What each env's Applications get, as Argo CD renders the
			// template for a cluster of that env.
			for i, e := range tt.envs {
				for _, s := range []struct{ tpl, want string }{{src[1].TargetRevision, e.Catalog}, {src[0].TargetRevision, e.Values}} {
					got := s.tpl
					for k, v := range set.Spec.Generators[i].Clusters.Values {
						got = strings.ReplaceAll(got, "{{.values."+k+"}}", v)
					}
					if got != s.want {
						t.Errorf("env %s: revision %q, want %q", e.Env, got, s.want)
					}
				}
			}
		})
	}
}

// revisionCases are git revisions and whether an Application may take a
// repository at them.
var revisionCases = map[string]bool{
	"": true, "main": true, "HEAD": true, "release/1.2": true, "v1.2.3": true, "refs/heads/main": true,
	"0123456789abcdef0123456789abcdef01234567": true, "feature/über": true, "a@b": true, "x-y_z+1": true, "{x}": true,
	"bad..rev": false, "a b": false, "a\tb": false, "tab\t": false, "~x": false, "x^": false, "a:b": false, "a?": false,
	"a*": false, "a[b": false, `a\b`: false, "@": false, "/a": false, "a/": false, "a//b": false, ".a": false,
	"a/.b": false, "a.": false, "a.lock": false, "a.lock/b": false, "a@{1}": false, "x\x7f": false, "x\n": false,
	"{{.name}}": false, "a{{b": false,
}

func TestCheckRevision(t *testing.T) {
	for r, ok := range revisionCases {
		if err := CheckRevision(r); (err == nil) != ok {
			t.Errorf("CheckRevision(%q) = %v, want ok %v", r, err, ok)
		} else if err != nil && !strings.HasPrefix(err.Error(), strconv.Quote(r)) {
			t.Errorf("CheckRevision(%q) = %v: does not start with the revision", r, err)
		}
	}
}

// TestCheckRevisionAgreesWithGit: but for "" and "{{", which are about
// Argo CD, CheckRevision accepts what `git check-ref-format
// --allow-onelevel` accepts.
func TestCheckRevisionAgreesWithGit(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git")
	}
	for r := range revisionCases {
		if r == "" || strings.Contains(r, "{{") {
			continue
		}
		gitOK := exec.Command(git, "check-ref-format", "--allow-onelevel", r).Run() == nil
		if ours := CheckRevision(r) == nil; ours != gitOK {
			t.Errorf("%q: CheckRevision ok %v, git ok %v", r, ours, gitOK)
		}
	}
}
