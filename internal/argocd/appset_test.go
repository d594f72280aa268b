package argocd

import (
	"slices"
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
	cfg := AppSetConfig{Namespace: "argocd", Project: "p", Envs: []EnvBranch{{"dev", "development"}}, SyncOptions: []string{CreateNamespaceOption}}

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
