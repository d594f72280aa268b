package placement

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"cuelang.org/go/cue/token"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/render"
)

// A small fleet that agrees with itself: two envs, two bundles with one
// app each, a dev cluster with core-basic and a prod cluster with both.
// Each case of TestChecks breaks it in one way.

var vocab = Vocabulary{
	Envs:    []string{"dev", "prod"},
	Bundles: []string{"core-basic", "empty-basic", "monitoring-basic"},
	Labels:  []string{"region", "team"},
}

func pos(file string, line, col int) token.Position {
	return token.Position{Filename: file, Line: line, Column: col}
}

// generated is the ApplicationSet fleetc writes for an app.
func generated(app, bundle, category string) Set {
	obj := argocd.NewApplicationSet(argocd.App{
		Name: app, Bundle: bundle, Chart: category + "/" + app, Namespace: category,
		ValuesFile: "deploy/" + render.ValuesPath(argocd.ClusterNameParam, category, app),
	}, argocd.AppSetConfig{
		Namespace: "argocd", Project: "bootstrap",
		CatalogRepo: "git@example.com:catalog.git", ValuesRepo: "git@example.com:values.git",
		Envs: []argocd.EnvRevisions{{Env: "dev", Catalog: "development", Values: "development"}, {Env: "prod", Catalog: "main", Values: "main"}},
	})
	return Set{Object: obj, Bundle: bundle, Pos: pos("defs/"+category+".cue", 10, 13)}
}

// handwritten is a hand-written ApplicationSet with one cluster generator
// per selector, each generator and key on a line of its own.
func handwritten(name, appName string, selectors ...argocd.LabelSelector) Set {
	s := Set{Source: "argocd/handwritten/" + name + ".yaml", Pos: pos("argocd/handwritten/"+name+".yaml", 4, 9)}
	s.Object.Metadata.Name = name
	s.Object.Spec.GoTemplate = true
	s.Object.Spec.Template.Metadata.Name = appName
	s.TemplateName = pos(s.Source, 30, 13)
	for i, sel := range selectors {
		s.Object.Spec.Generators = append(s.Object.Spec.Generators, argocd.Generator{Clusters: &argocd.ClusterGenerator{Selector: sel}})
		line := 10 + 10*i
		gp := GeneratorPos{Pos: pos(s.Source, line, 7), Keys: map[string]token.Position{}}
		for j, k := range slices.Sorted(mapsKeys(sel.MatchLabels)) {
			gp.Keys[k] = pos(s.Source, line+3+j, 13)
		}
		for j, e := range sel.MatchExpressions {
			gp.Keys[e.Key] = pos(s.Source, line+3+j, 20)
		}
		s.Generators = append(s.Generators, gp)
	}
	return s
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func match(kv ...string) argocd.LabelSelector {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return argocd.LabelSelector{MatchLabels: m}
}

func cluster(name, env string, apps ...render.AppRef) Cluster {
	c := Cluster{
		Name: name, Pos: pos("clusters/"+name+".cue", 3, 11),
		Labels: map[string]string{argocd.SecretTypeLabel: argocd.SecretTypeCluster, argocd.EnvLabel: env},
	}
	for _, a := range apps {
		a.Values = render.ValuesPath(name, a.Category, a.Name)
		c.Apps = append(c.Apps, a)
		c.Labels[a.Bundle] = argocd.BundleEnabled
	}
	return c
}

var (
	certManager = render.AppRef{Name: "cert-manager", Bundle: "core-basic", Category: "core"}
	vmAgent     = render.AppRef{Name: "vm-agent", Bundle: "monitoring-basic", Category: "monitoring"}
)

func fleet() Input {
	return Input{
		Sets: []Set{
			generated("cert-manager", "core-basic", "core"),
			generated("vm-agent", "monitoring-basic", "monitoring"),
			handwritten("team-tools", "{{.name}}-team-tools", match("team", "payments")),
		},
		Clusters: []Cluster{
			cluster("dev-one", "dev", certManager),
			cluster("prod-one", "prod", certManager, vmAgent),
		},
		Vocab:      vocab,
		ValuesRepo: "git@example.com:values.git",
		ValuesDir:  "deploy",
	}
}

func withTeam(in Input) Input {
	in.Clusters[1].Labels["team"] = "payments"
	return in
}

// TestChecks breaks the fleet once per check and wants exactly that
// problem, at its position.
func TestChecks(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(Input) Input
		want   []string
	}{{
		name:   "agrees",
		mutate: withTeam,
	}, {
		name: "selected cluster without its values file",
		mutate: func(in Input) Input {
			in = withTeam(in)
			in.Clusters[1].Apps = in.Clusters[1].Apps[:1]
			return in
		},
		want: []string{`clusters/prod-one.cue:3:11: prod-one: ApplicationSet "vm-agent" selects this cluster and reads deploy/cluster/prod-one/monitoring/vm-agent/values.yaml, which fleetc does not write`},
	}, {
		name: "values file no ApplicationSet reads",
		mutate: func(in Input) Input {
			in = withTeam(in)
			// A values file of an app whose bundle the cluster lacks.
			in.Clusters[0].Apps = append(in.Clusters[0].Apps, render.AppRef{
				Name: "vm-agent", Bundle: "monitoring-basic", Category: "monitoring",
				Values: render.ValuesPath("dev-one", "monitoring", "vm-agent"),
			})
			return in
		},
		want: []string{`clusters/dev-one.cue:3:11: dev-one: deploy/cluster/dev-one/monitoring/vm-agent/values.yaml (app vm-agent of bundle monitoring-basic) is read by no ApplicationSet: none that selects this cluster reads it`},
	}, {
		name: "ApplicationSet gone, bundle still enabled",
		mutate: func(in Input) Input {
			in = withTeam(in)
			in.Sets = in.Sets[:1:1]
			in.Sets = append(in.Sets, handwritten("team-tools", "{{.name}}-team-tools", match("team", "payments")))
			// vm-agent's bundle is still on the cluster but its
			// ApplicationSet is gone: its values file is dead, and so is
			// the bundle label.
			return in
		},
		want: []string{
			`clusters/prod-one.cue:3:11: prod-one: bundle monitoring-basic is enabled but deploys nothing: no ApplicationSet selects monitoring-basic=enabled on this cluster`,
			`clusters/prod-one.cue:3:11: prod-one: deploy/cluster/prod-one/monitoring/vm-agent/values.yaml (app vm-agent of bundle monitoring-basic) is read by no ApplicationSet: none that selects this cluster reads it`,
		},
	}, {
		name: "overlapping generators",
		mutate: func(in Input) Input {
			in = withTeam(in)
			in.Sets[2] = handwritten("team-tools", "{{.name}}-team-tools", match("team", "payments"), match(argocd.EnvLabel, "prod"))
			return in
		},
		want: []string{`argocd/handwritten/team-tools.yaml:20:7: ApplicationSet "team-tools": generators 1 and 2 both select cluster prod-one: selectors of one ApplicationSet must not overlap, or Argo CD generates the same Application twice and rejects it`},
	}, {
		name: "selector label outside the vocabulary",
		mutate: func(in Input) Input {
			in = withTeam(in)
			in.Sets[2] = handwritten("team-tools", "{{.name}}-team-tools", match("team", "payments"), match("regoin", "fra2"))
			return in
		},
		want: []string{`argocd/handwritten/team-tools.yaml:23:13: ApplicationSet "team-tools": selector label "regoin" is not declared in defs, so no cluster carries it (declared: env, one label per bundle, and platform.labels: region, team)`},
	}, {
		name: "selector value a label never takes",
		mutate: func(in Input) Input {
			in = withTeam(in)
			in.Sets[2] = handwritten("team-tools", "{{.name}}-team-tools", argocd.LabelSelector{MatchExpressions: []argocd.LabelRequirement{
				{Key: argocd.EnvLabel, Operator: argocd.OpIn, Values: []string{"prod", "production"}},
			}})
			return in
		},
		want: []string{`argocd/handwritten/team-tools.yaml:13:20: ApplicationSet "team-tools": selector label env=production: env is one of dev, prod (platform.envs)`},
	}, {
		name: "cluster label outside the vocabulary",
		mutate: func(in Input) Input {
			in = withTeam(in)
			in.Clusters[0].Labels["owner"] = "me"
			return in
		},
		want: []string{`clusters/dev-one.cue:3:11: dev-one: label "owner" is not declared in defs (declared: env, one label per bundle, and platform.labels: region, team)`},
	}, {
		name: "cluster label value outside the vocabulary",
		mutate: func(in Input) Input {
			in = withTeam(in)
			in.Clusters[0].Labels["monitoring-basic"] = "disabled"
			return in
		},
		want: []string{`clusters/dev-one.cue:3:11: dev-one: label monitoring-basic=disabled: monitoring-basic is always enabled`},
	}, {
		name:   "hand-written generator that selects no cluster",
		mutate: func(in Input) Input { return in },
		want:   []string{`argocd/handwritten/team-tools.yaml:10:7: ApplicationSet "team-tools": generator 1 selects no cluster (team=payments)`},
	}, {
		name: "bundle no ApplicationSet selects",
		mutate: func(in Input) Input {
			in = withTeam(in)
			in.Clusters[0].Labels["empty-basic"] = argocd.BundleEnabled
			return in
		},
		want: []string{`clusters/dev-one.cue:3:11: dev-one: bundle empty-basic is enabled but deploys nothing: no ApplicationSet selects empty-basic=enabled on this cluster`},
	}, {
		name: "one Application name for several clusters",
		mutate: func(in Input) Input {
			in = withTeam(in)
			in.Sets[2] = handwritten("team-tools", "team-tools", match("core-basic", "enabled"))
			return in
		},
		want: []string{`argocd/handwritten/team-tools.yaml:30:13: 2 Applications are named "team-tools", by ApplicationSet "team-tools" for clusters dev-one, prod-one: Argo CD keeps only one; put the cluster's name in template.metadata.name`},
	}, {
		name: "hand-written set reads a values file fleetc does not write",
		mutate: func(in Input) Input {
			in = withTeam(in)
			tools := handwritten("team-tools", "{{.name}}-team-tools", match("team", "payments"))
			tools.Object.Spec.Template.Spec.Sources = []argocd.Source{
				{RepoURL: "git@example.com:values.git", Ref: "values"},
				{RepoURL: "git@example.com:catalog.git", Path: "teams/tools", Helm: &argocd.Helm{ValueFiles: []string{
					"values.yaml", "$values/deploy/cluster/{{.name}}/teams/tools/values.yaml",
				}}},
			}
			in.Sets[2] = tools
			return in
		},
		want: []string{`argocd/handwritten/team-tools.yaml:10:7: ApplicationSet "team-tools" selects cluster prod-one and reads deploy/cluster/prod-one/teams/tools/values.yaml, which fleetc does not write`},
	}, {
		name: "hand-written set named like a generated one",
		mutate: func(in Input) Input {
			in = withTeam(in)
			in.Sets[2] = handwritten("vm-agent", "{{.name}}-vm-agent-extra", match("team", "payments"))
			return in
		},
		want: []string{
			`argocd/handwritten/vm-agent.yaml:4:9: ApplicationSet "vm-agent": fleetc generates one of that name for the catalog app, and one would replace the other in Argo CD: rename one`,
		},
	}, {
		name: "invalid selector",
		mutate: func(in Input) Input {
			in = withTeam(in)
			in.Sets[2] = handwritten("team-tools", "{{.name}}-team-tools", match("team", "payments"), argocd.LabelSelector{MatchExpressions: []argocd.LabelRequirement{
				{Key: "team", Operator: "Equals", Values: []string{"payments"}},
			}})
			return in
		},
		want: []string{`argocd/handwritten/team-tools.yaml:20:7: ApplicationSet "team-tools": generator 2: "Equals" is not a valid label selector operator (In, NotIn, Exists, DoesNotExist)`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ds := Compute(tt.mutate(fleet()))
			var got []string
			for _, d := range ds {
				got = append(got, d.Format(""))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestMatrix(t *testing.T) {
	m, ds := Compute(withTeam(fleet()))
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	if want := []string{"dev-one", "prod-one"}; !slices.Equal(m.Clusters, want) {
		t.Errorf("clusters = %v, want %v", m.Clusters, want)
	}
	want := []Row{
		{Name: "cert-manager", Bundle: "core-basic", Clusters: []string{"dev-one", "prod-one"}},
		{Name: "team-tools", Source: "argocd/handwritten/team-tools.yaml", Clusters: []string{"prod-one"}},
		{Name: "vm-agent", Bundle: "monitoring-basic", Clusters: []string{"prod-one"}},
	}
	if !slices.EqualFunc(m.Sets, want, func(a, b Row) bool {
		return a.Name == b.Name && a.Bundle == b.Bundle && a.Source == b.Source && slices.Equal(a.Clusters, b.Clusters)
	}) {
		t.Errorf("sets = %+v, want %+v", m.Sets, want)
	}
}

func TestChanges(t *testing.T) {
	before, _ := Compute(withTeam(fleet()))
	in := withTeam(fleet())
	// prod-one loses monitoring-basic and moves to team platform.
	in.Clusters[1] = cluster("prod-one", "prod", certManager)
	in.Clusters[1].Labels["team"] = "platform"
	in.Clusters = append(in.Clusters, cluster("prod-two", "prod", certManager, vmAgent))
	after, _ := Compute(in)
	added, removed := Changes(before, after)
	wantAdded := []Pair{{"cert-manager", "prod-two"}, {"vm-agent", "prod-two"}}
	wantRemoved := []Pair{{"team-tools", "prod-one"}, {"vm-agent", "prod-one"}}
	if !slices.Equal(added, wantAdded) || !slices.Equal(removed, wantRemoved) {
		t.Errorf("added %v, removed %v; want %v, %v", added, removed, wantAdded, wantRemoved)
	}
	if a, r := Changes(after, after); len(a)+len(r) > 0 {
		t.Errorf("a placement differs from itself: %v %v", a, r)
	}
	if a, r := Changes(nil, before); len(a) != len(before.Pairs()) || len(r) > 0 {
		t.Errorf("from nothing: added %v, removed %v", a, r)
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		tmpl       string
		goTemplate bool
		want       string
		ok         bool
	}{
		{"{{.name}}-app", true, "c-app", true},
		{"{{ .name }}-app", true, "c-app", true},
		{"{{name}}-app", false, "c-app", true},
		{"{{name}}-app", true, "{{name}}-app", false},
		{"{{.nameNormalized}}-app", true, "{{.nameNormalized}}-app", false},
		{"static", true, "static", true},
	}
	for _, tt := range tests {
		got, ok := resolve(tt.tmpl, "c", tt.goTemplate)
		if got != tt.want || ok != tt.ok {
			t.Errorf("resolve(%q, %v) = %q, %v; want %q, %v", tt.tmpl, tt.goTemplate, got, ok, tt.want, tt.ok)
		}
	}
}

// benchFleet is the benchmarks' fleet: 19 generated ApplicationSets, each
// on every one of 3000 clusters, alternately of the two envs.
func benchFleet() Input {
	in := Input{Vocab: vocab, ValuesRepo: "git@example.com:values.git", ValuesDir: "deploy"}
	apps := []render.AppRef{certManager, vmAgent}
	for i := range 19 {
		app := apps[i%2]
		app.Name = fmt.Sprintf("%s-%d", app.Name, i)
		in.Sets = append(in.Sets, generated(app.Name, app.Bundle, app.Category))
		apps = append(apps, app)
	}
	for i := range 3000 {
		in.Clusters = append(in.Clusters, cluster(fmt.Sprintf("c%05d", i), in.Vocab.Envs[i%2], apps[2:]...))
	}
	return in
}

// BenchmarkCompute places 19 generated ApplicationSets on 3000 clusters:
// the reference catalog on a large fleet.
func BenchmarkCompute(b *testing.B) {
	in := benchFleet()
	b.ResetTimer()
	for b.Loop() {
		if _, ds := Compute(in); len(ds) > 0 {
			b.Fatal(ds[:1])
		}
	}
}

// BenchmarkFilter keeps half the clusters of 19 ApplicationSets on 3000,
// as compile --cluster with a long list does.
func BenchmarkFilter(b *testing.B) {
	in := benchFleet()
	var names []string
	for i, cl := range in.Clusters {
		if i%2 == 0 {
			names = append(names, cl.Name)
		}
	}
	m, ds := Compute(in)
	if len(ds) > 0 {
		b.Fatal(ds[:1])
	}
	b.ResetTimer()
	for b.Loop() {
		if f := m.Filter(nil, names); len(f.Clusters) != len(names) {
			b.Fatal(len(f.Clusters))
		}
	}
}

// TestApplicationNames checks every Application name against what the
// tracking method allows: the template's own characters and each time it
// names the cluster count, and the fix names the longest cluster name that
// fits.
func TestApplicationNames(t *testing.T) {
	tests := []struct {
		name     string
		tracking argocd.TrackingMethod
		template string
		want     []string
	}{{
		name:     "63 characters under label tracking",
		template: "{{.name}}-and-{{.name}}-" + strings.Repeat("x", 41), // 2*8 + 47
	}, {
		name:     "64 characters under label tracking",
		template: "{{.name}}-and-{{.name}}-" + strings.Repeat("x", 42),
		want: []string{`clusters/prod-one.cue:3:11: prod-one: Application "prod-one-and-prod-one-` + strings.Repeat("x", 42) + `" (ApplicationSet "team-tools" (argocd/handwritten/team-tools.yaml)) is 64 characters: ` +
			`Argo CD's label tracking puts the name in the app.kubernetes.io/instance label of every resource, which holds 63 characters (platform.argocd.resourceTrackingMethod: "label"); ` +
			`shorten the cluster's name to 7 characters or fewer, or, if the hub's argocd-cm sets application.resourceTrackingMethod to "annotation", say so in platform.argocd`},
	}, {
		name:     "64 characters with the method left out: label",
		tracking: "",
		template: "{{.name}}-" + strings.Repeat("x", 55),
		want: []string{`clusters/prod-one.cue:3:11: prod-one: Application "prod-one-` + strings.Repeat("x", 55) + `" (ApplicationSet "team-tools" (argocd/handwritten/team-tools.yaml)) is 64 characters: ` +
			`Argo CD's label tracking puts the name in the app.kubernetes.io/instance label of every resource, which holds 63 characters (platform.argocd.resourceTrackingMethod: "label"); ` +
			`shorten the cluster's name to 7 characters or fewer, or, if the hub's argocd-cm sets application.resourceTrackingMethod to "annotation", say so in platform.argocd`},
	}, {
		name:     "64 characters under annotation tracking",
		tracking: argocd.TrackingAnnotation,
		template: "{{.name}}-and-{{.name}}-" + strings.Repeat("x", 42),
	}, {
		name:     "64 characters under annotation+label tracking, which cuts the label",
		tracking: argocd.TrackingAnnotationAndLabel,
		template: "{{.name}}-and-{{.name}}-" + strings.Repeat("x", 42),
	}, {
		name:     "254 characters under annotation tracking",
		tracking: argocd.TrackingAnnotation,
		template: "{{.name}}-" + strings.Repeat("x", 245),
		want: []string{`clusters/prod-one.cue:3:11: prod-one: Application "prod-one-` + strings.Repeat("x", 245) + `" (ApplicationSet "team-tools" (argocd/handwritten/team-tools.yaml)) is 254 characters: ` +
			`an Application is a Kubernetes object, whose name holds 253 characters (platform.argocd.resourceTrackingMethod: "annotation"); ` +
			`shorten the cluster's name to 7 characters or fewer`},
	}, {
		name:     "the template alone is too long",
		template: "{{.name}}-" + strings.Repeat("x", 63),
		want: []string{`clusters/prod-one.cue:3:11: prod-one: Application "prod-one-` + strings.Repeat("x", 63) + `" (ApplicationSet "team-tools" (argocd/handwritten/team-tools.yaml)) is 72 characters: ` +
			`Argo CD's label tracking puts the name in the app.kubernetes.io/instance label of every resource, which holds 63 characters (platform.argocd.resourceTrackingMethod: "label"); ` +
			`shorten template.metadata.name of ApplicationSet "team-tools", or, if the hub's argocd-cm sets application.resourceTrackingMethod to "annotation", say so in platform.argocd`},
	}, {
		name:     "characters no object name may have",
		template: "{{.name}}_team-tools",
		want: []string{`argocd/handwritten/team-tools.yaml:30:13: ApplicationSet "team-tools" names the Application of cluster prod-one "prod-one_team-tools", which is no valid object name: ` +
			`a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := withTeam(fleet())
			in.Tracking = tt.tracking
			if tt.tracking == "" && !strings.Contains(tt.name, "left out") {
				in.Tracking = argocd.TrackingLabel
			}
			in.Sets[2] = handwritten("team-tools", tt.template, match("team", "payments"))
			_, ds := Compute(in)
			var got []string
			for _, d := range ds {
				got = append(got, d.Format(""))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestApplicationNamesPerCluster: one message per cluster, at its name,
// for the longest of its names, however many are too long; clusters whose
// names fit are not reported.
func TestApplicationNamesPerCluster(t *testing.T) {
	long := strings.Repeat("a", 60)
	in := withTeam(fleet())
	in.Tracking = argocd.TrackingLabel
	in.Clusters = append(in.Clusters, cluster(long, "dev", certManager, vmAgent))
	_, ds := Compute(in)
	if len(ds) != 1 {
		t.Fatalf("got %d diagnostics, want 1: %v", len(ds), ds)
	}
	d := ds[0]
	if d.Cluster != long || d.Pos != pos("clusters/"+long+".cue", 3, 11) {
		t.Errorf("reported for %s at %v, want at the cluster's name", d.Cluster, d.Pos)
	}
	want := `Application "` + long + `-cert-manager" (app cert-manager) is 73 characters, and 1 more of this cluster's Applications is over 63 too`
	// cert-manager, the longer app, needs the shorter cluster name.
	if !strings.HasPrefix(d.Message, want) || !strings.Contains(d.Message, "shorten the cluster's name to 50 characters or fewer") {
		t.Errorf("message:\n%s\nwant it to start with:\n%s\nand say 50 characters", d.Message, want)
	}
}

// TestGroups: clusters group by env and enabled bundles, with the
// Applications the matrix gives them; Filter narrows rows and columns and
// the groups follow.
func TestGroups(t *testing.T) {
	in := withTeam(fleet())
	in.Clusters = append(in.Clusters, cluster("dev-two", "dev", certManager))
	m, ds := Compute(in)
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	got := fmt.Sprint(m.Groups())
	want := "[{dev [core-basic] [dev-one dev-two] 1 1 2} {prod [core-basic monitoring-basic] [prod-one] 3 3 3}]"
	if got != want {
		t.Errorf("groups:\n got %s\nwant %s", got, want)
	}
	f := m.Filter([]string{"vm-agent", "team-tools"}, []string{"prod-one", "dev-two"})
	if got, want := fmt.Sprint(f.Clusters, len(f.Sets), f.Sets[0].Clusters), "[dev-two prod-one] 2 [prod-one]"; got != want {
		t.Errorf("filtered: got %s, want %s", got, want)
	}
	got = fmt.Sprint(f.Groups())
	want = "[{dev [core-basic] [dev-two] 0 0 0} {prod [core-basic monitoring-basic] [prod-one] 2 2 2}]"
	if got != want {
		t.Errorf("filtered groups:\n got %s\nwant %s", got, want)
	}
}

// An app whose own name leaves no room for any cluster's: the fix is a
// shorter app name.
func TestApplicationNameAppTooLong(t *testing.T) {
	long := strings.Repeat("a", 63)
	in := withTeam(fleet())
	in.Tracking = argocd.TrackingLabel
	in.Sets = append(in.Sets, generated(long, "core-basic", "core"))
	in.Clusters[1].Apps = append(in.Clusters[1].Apps, render.AppRef{Name: long, Bundle: "core-basic", Category: "core", Values: render.ValuesPath("prod-one", "core", long)})
	in.Clusters[0].Apps = append(in.Clusters[0].Apps, render.AppRef{Name: long, Bundle: "core-basic", Category: "core", Values: render.ValuesPath("dev-one", "core", long)})
	_, ds := Compute(in)
	if len(ds) != 2 {
		t.Fatalf("got %d diagnostics, want one per cluster: %v", len(ds), ds)
	}
	for _, d := range ds {
		if !strings.HasSuffix(d.Message, "; shorten the name of app "+long+`, or, if the hub's argocd-cm sets application.resourceTrackingMethod to "annotation", say so in platform.argocd`) {
			t.Errorf("%s: %s", d.Cluster, d.Message)
		}
	}
}
