package placement

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"cuelang.org/go/cue/token"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/compile"
)

// projectFleet is two hubs with one cluster each (b scoped to project
// team), a generated set on both and a hand-written one on b whose
// project fleetc does not write.
func projectFleet() ProjectInput {
	s := &compile.Settings{Projects: map[string]compile.StatedProject{}}
	s.Repos.Catalog, s.Repos.Values = "git@git.example:catalog.git", "git@git.example:values"
	s.Hubs = []compile.Hub{
		{Name: "dev", Envs: []string{"dev"}, Namespace: "argocd"},
		{Name: "prod", Envs: []string{"prod"}, Namespace: "argocd-prod"},
	}
	gen := Set{Pos: token.Position{Filename: "defs/core.cue", Line: 3}, ClusterResources: []argocd.GroupKind{argocd.CRDKind}}
	gen.Object.Metadata.Name = "app"
	gen.Object.Spec.GoTemplate = true
	gen.Object.Spec.Template.Spec = argocd.ApplicationSpec{
		Project:     "bootstrap",
		Sources:     []argocd.Source{{RepoURL: s.Repos.Values, Ref: "valuesRepo"}, {RepoURL: s.Repos.Catalog, Path: "core/app"}},
		Destination: argocd.Destination{Server: argocd.ClusterServerParam, Namespace: "core"},
		SyncPolicy:  &argocd.SyncPolicy{SyncOptions: []string{argocd.CreateNamespaceOption}},
	}
	hw := Set{Source: "argocd/handwritten/x.yaml", Pos: token.Position{Filename: "argocd/handwritten/x.yaml", Line: 4}}
	hw.Object.Metadata.Name = "x"
	hw.Object.Spec.Template.Spec = argocd.ApplicationSpec{
		Project:     "elsewhere",
		Source:      &argocd.Source{RepoURL: "https://github.com/other/repo"},
		Destination: argocd.Destination{Name: "{{name}}", Namespace: "kube-system"},
	}
	return ProjectInput{
		Matrix: &Matrix{Sets: []Row{{Name: "app", Clusters: []string{"a", "b"}}, {Name: "x", Source: hw.Source, Clusters: []string{"b"}}}},
		Sets:   []Set{gen, hw},
		Clusters: []HubCluster{
			{Name: "a", Server: "https://a.example", Hub: "dev", Pos: token.Position{Filename: "clusters/a.cue", Line: 3}},
			{Name: "b", Server: "https://b.example", Project: "team", Hub: "prod", Pos: token.Position{Filename: "clusters/b.cue", Line: 3}, ProjectPos: token.Position{Filename: "clusters/b.cue", Line: 7}},
		},
		Settings: s,
		Project:  "bootstrap",
	}
}

func TestProjectsComputed(t *testing.T) {
	in := projectFleet()
	got, ds := Projects(in)
	if len(ds) > 0 {
		t.Fatalf("errors: %v", ds)
	}
	repos := []string{"git@git.example:catalog.git", "git@git.example:values"}
	kinds := []argocd.GroupKind{argocd.NamespaceKind, argocd.CRDKind}
	project := func(name, ns, server string) argocd.AppProject {
		return argocd.AppProject{APIVersion: argocd.ApplicationSetAPIVersion, Kind: argocd.AppProjectKind,
			Metadata: argocd.ObjectMeta{Name: name, Namespace: ns},
			Spec: argocd.AppProjectSpec{SourceRepos: repos, ClusterResourceWhitelist: kinds,
				Destinations: []argocd.ProjectDestination{{Server: server, Namespace: "core"}}}}
	}
	// Each hub has only its own clusters; the cluster's own project
	// (team) has every Application on its clusters, and the hand-written
	// set's project, which fleetc does not write, is neither written nor
	// checked (it reads a repository no project here lists).
	want := map[string][]argocd.AppProject{
		"dev":  {project("bootstrap", "argocd", "https://a.example")},
		"prod": {project("bootstrap", "argocd-prod", "https://b.example"), project("team", "argocd-prod", "https://b.example")},
	}
	want["prod"][1].Spec.Destinations = append(want["prod"][1].Spec.Destinations, argocd.ProjectDestination{Server: "https://b.example", Namespace: "kube-system"})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestProjectsStated(t *testing.T) {
	pos := func(line int) token.Position { return token.Position{Filename: "defs/projects.cue", Line: line} }
	repos := []string{"git@git.example:*"}
	dests := []argocd.ProjectDestination{{Server: "https://a.*", Namespace: "*"}}
	only := true
	for _, c := range []struct {
		name   string
		stated compile.ProjectSetting
		want   []string // "file:line [cluster] message"
	}{
		{"repos permitted by a glob", compile.ProjectSetting{SourceRepos: &repos}, nil},
		{"destination refused, at the setting", compile.ProjectSetting{Destinations: &dests},
			[]string{`defs/projects.cue:2 [] Argo CD would refuse the Application of ApplicationSet "app" on cluster b: project bootstrap does not permit the destination https://b.example, namespace core (destinations)`}},
		{"scoped clusters only, at the cluster's project", compile.ProjectSetting{PermitOnlyProjectScopedClusters: &only},
			[]string{
				`clusters/a.cue:3 [a] Argo CD would refuse the Application of ApplicationSet "app" on cluster a: project bootstrap permits only clusters scoped to it (permitOnlyProjectScopedClusters), and the cluster is scoped to no project`,
				`clusters/b.cue:7 [b] Argo CD would refuse the Application of ApplicationSet "app" on cluster b: project bootstrap permits only clusters scoped to it (permitOnlyProjectScopedClusters), and the cluster is scoped to project team`,
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := projectFleet()
			in.Settings.Projects["bootstrap"] = compile.StatedProject{ProjectSetting: c.stated, Pos: map[string]token.Position{
				"sourceRepos": pos(1), "destinations": pos(2), "permitOnlyProjectScopedClusters": pos(3)}}
			got, ds := Projects(in)
			var lines []string
			for _, d := range ds {
				lines = append(lines, fmt.Sprintf("%s:%d [%s] %s", d.Pos.Filename, d.Pos.Line, d.Cluster, d.Message))
			}
			if strings.Join(lines, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(c.want, "\n"))
			}
			if c.stated.SourceRepos != nil && !reflect.DeepEqual(got["dev"][0].Spec.SourceRepos, repos) {
				t.Errorf("sourceRepos %v, want the stated %v", got["dev"][0].Spec.SourceRepos, repos)
			}
		})
	}
}

// BenchmarkProjects checks 19 generated ApplicationSets on 3000 clusters
// of two hubs against their projects.
func BenchmarkProjects(b *testing.B) {
	in := projectFleet()
	gen := in.Sets[0]
	in.Sets, in.Clusters = nil, nil
	in.Matrix = &Matrix{}
	var names []string
	for i := range 3000 {
		name := fmt.Sprintf("c%05d", i)
		names = append(names, name)
		in.Clusters = append(in.Clusters, HubCluster{Name: name, Server: "https://" + name + ".example", Hub: in.Settings.Hubs[i%2].Name})
	}
	for i := range 19 {
		s := gen
		s.Object.Metadata.Name = fmt.Sprintf("app-%d", i)
		in.Sets = append(in.Sets, s)
		in.Matrix.Sets = append(in.Matrix.Sets, Row{Name: s.Object.Metadata.Name, Clusters: names})
	}
	b.ResetTimer()
	for b.Loop() {
		if _, ds := Projects(in); len(ds) > 0 {
			b.Fatal(ds[:1])
		}
	}
}

// TestResolveParams: every spelling of the name and server parameters
// is substituted in its template syntax, and anything else is left
// unresolved.
func TestResolveParams(t *testing.T) {
	cl := &HubCluster{Name: "a", Server: "https://a.example"}
	for _, c := range []struct {
		tmpl string
		gt   bool
		want string
		ok   bool
	}{
		{"plain", false, "plain", true},
		{"{{name}}-{{ name }}@{{server}}|{{ server }}", false, "a-a@https://a.example|https://a.example", true},
		{"{{.name}}-{{ .name }}@{{.server}}|{{ .server }}", true, "a-a@https://a.example|https://a.example", true},
		{"{{.name}}", false, "{{.name}}", false},
		{"{{name}}", true, "{{name}}", false},
		{"{{name}}-{{metadata.labels.env}}", false, "a-{{metadata.labels.env}}", false},
	} {
		if got, ok := resolveParams(c.tmpl, cl, c.gt); got != c.want || ok != c.ok {
			t.Errorf("resolveParams(%q, goTemplate %v) = %q, %v; want %q, %v", c.tmpl, c.gt, got, ok, c.want, c.ok)
		}
	}
}
