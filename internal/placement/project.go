package placement

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"cuelang.org/go/cue/token"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/diag"
)

// SpecPos is where the parts of a hand-written set's Application template
// that its project checks are written; unset for a generated set.
type SpecPos struct {
	Project token.Position
	// Repos holds where each source's repoURL is, in the order of
	// ApplicationSpec.AllSources.
	Repos       []token.Position
	Destination token.Position
	// CreateNamespace is where the sync option that creates the
	// destination namespace is.
	CreateNamespace token.Position
}

// HubCluster is a cluster as the AppProjects of its hub see it.
type HubCluster struct {
	Name, Server string
	// Project is the project its registration scopes it to, "" for none.
	Project string
	// Hub is the hub that registers it.
	Hub string
	// Pos is where the cluster is defined, ProjectPos where it sets its
	// argocd.project (unset without one).
	Pos, ProjectPos token.Position
}

// ProjectInput is what Projects works on.
type ProjectInput struct {
	// Matrix is the placement of Sets on the clusters.
	Matrix *Matrix
	Sets   []Set
	// Clusters are every cluster of the matrix.
	Clusters []HubCluster
	Settings *compile.Settings
	// Project is the project of the generated Applications
	// (platform.applicationSets.project).
	Project string
}

// projectApp is one Application as its project sees it.
type projectApp struct {
	set     *Set
	cl      *HubCluster
	project string
	// repos are the resolved repoURLs of its sources, with the index of
	// each among the sources.
	repos []indexed
	// server, name and namespace are its resolved destination; ok is
	// false if fleetc cannot know it.
	server, name, namespace string
	destOK                  bool
	kinds                   []kindNeed
}

type indexed struct {
	i int
	s string
}

// kindNeed is a cluster-scoped object an Application creates: its kind,
// its name where fleetc knows it, and where the need is written.
type kindNeed struct {
	gk   argocd.GroupKind
	name string
	pos  token.Position
}

// Projects builds the AppProjects of every hub and checks every
// Application of the matrix against its project by Argo CD's rules
// (argocd.AppProjectSpec). A hub gets the project of the generated
// Applications, the project of each of its clusters that has one, and
// every project the platform states. What the platform does not state is
// computed from the Applications: the catalog and values repositories;
// each destination (cluster server and namespace) of the project's
// Applications and, for a cluster's own project, of every Application on
// its clusters; and the cluster-scoped kinds those create. An
// Application its project refuses is an error where the refusal comes
// from: the platform's setting of the project, the cluster's
// argocd.project, or the line of the hand-written ApplicationSet. An
// Application of a project fleetc does not write is not checked: the
// platform keeps that project itself.
func Projects(in ProjectInput) (map[string][]argocd.AppProject, diag.List) {
	apps := projectApps(in)
	out, specs := appProjects(in.Settings, projectNeeds(in, apps))
	ds := setNamespaces(in.Sets, in.Settings.Hubs)
	if ds = append(ds, checkApps(in.Settings.Projects, specs, apps).diags()...); len(ds) > 0 {
		return out, ds.Sorted()
	}
	return out, nil
}

// hubProject names one project on one hub.
type hubProject struct{ hub, project string }

// projectApps is every Application of the matrix, in its order.
func projectApps(in ProjectInput) []projectApp {
	clusters := make(map[string]*HubCluster, len(in.Clusters))
	for i := range in.Clusters {
		clusters[in.Clusters[i].Name] = &in.Clusters[i]
	}
	sets := make(map[[2]string]*Set, len(in.Sets))
	for i := range in.Sets {
		st := &in.Sets[i]
		sets[[2]string{st.Object.Metadata.Name, st.Source}] = st
	}
	var apps []projectApp
	for _, r := range in.Matrix.Sets {
		st := sets[[2]string{r.Name, r.Source}]
		if st == nil {
			continue
		}
		for _, c := range r.Clusters {
			if cl := clusters[c]; cl != nil {
				apps = append(apps, newProjectApp(st, cl))
			}
		}
	}
	return apps
}

// projectNeed is what the Applications of one project on one hub need of
// it: their destinations and the cluster-scoped kinds they create.
type projectNeed struct {
	dests map[argocd.ProjectDestination]bool
	kinds map[argocd.GroupKind]bool
}

// projectNeeds is, by hub and name, the projects each hub gets (the
// generated Applications' project, every stated one and its clusters'
// own) and what each needs, nil for nothing: what its Applications need
// and, for a cluster's own project, every Application on the cluster.
func projectNeeds(in ProjectInput, apps []projectApp) map[string]map[string]*projectNeed {
	needs := map[string]map[string]*projectNeed{}
	for _, h := range in.Settings.Hubs {
		needs[h.Name] = map[string]*projectNeed{in.Project: nil}
		for p := range in.Settings.Projects {
			needs[h.Name][p] = nil
		}
	}
	for _, cl := range in.Clusters {
		if cl.Project != "" && needs[cl.Hub] != nil {
			needs[cl.Hub][cl.Project] = nil
		}
	}
	add := func(project string, a projectApp) {
		n, ok := needs[a.cl.Hub][project]
		if !ok {
			return
		}
		if n == nil {
			n = &projectNeed{dests: map[argocd.ProjectDestination]bool{}, kinds: map[argocd.GroupKind]bool{}}
			needs[a.cl.Hub][project] = n
		}
		if a.destOK {
			n.dests[argocd.ProjectDestination{Server: argocd.QuoteGlob(a.server), Namespace: argocd.QuoteGlob(a.namespace)}] = true
		}
		for _, k := range a.kinds {
			n.kinds[k.gk] = true
		}
	}
	for _, a := range apps {
		add(a.project, a)
		if a.cl.Project != "" && a.cl.Project != a.project {
			add(a.cl.Project, a)
		}
	}
	return needs
}

// appProjects is the AppProjects of each hub, sorted by name, and the
// spec of each: the catalog and values repositories and what the
// Applications need, where the platform does not state otherwise.
func appProjects(s *compile.Settings, needs map[string]map[string]*projectNeed) (map[string][]argocd.AppProject, map[hubProject]argocd.AppProjectSpec) {
	repos := slices.Compact(slices.Sorted(slices.Values([]string{s.Repos.Catalog, s.Repos.Values})))
	specs := map[hubProject]argocd.AppProjectSpec{}
	out := map[string][]argocd.AppProject{}
	for _, h := range s.Hubs {
		for _, p := range slices.Sorted(maps.Keys(needs[h.Name])) {
			spec := argocd.AppProjectSpec{SourceRepos: repos, Destinations: []argocd.ProjectDestination{}, ClusterResourceWhitelist: []argocd.GroupKind{}}
			if n := needs[h.Name][p]; n != nil {
				spec.Destinations = slices.SortedFunc(maps.Keys(n.dests), func(a, b argocd.ProjectDestination) int {
					return cmp.Or(strings.Compare(a.Server, b.Server), strings.Compare(a.Namespace, b.Namespace))
				})
				spec.ClusterResourceWhitelist = slices.SortedFunc(maps.Keys(n.kinds), func(a, b argocd.GroupKind) int {
					return cmp.Or(strings.Compare(a.Group, b.Group), strings.Compare(a.Kind, b.Kind), strings.Compare(a.Name, b.Name))
				})
			}
			if st, ok := s.Projects[p]; ok {
				state(&spec, st.ProjectSetting)
			}
			specs[hubProject{h.Name, p}] = spec
			out[h.Name] = append(out[h.Name], argocd.AppProject{
				APIVersion: argocd.ApplicationSetAPIVersion,
				Kind:       argocd.AppProjectKind,
				Metadata:   argocd.ObjectMeta{Name: p, Namespace: h.Namespace},
				Spec:       spec,
			})
		}
	}
	return out, specs
}

// setNamespaces checks the namespaces of the hand-written sets: the root
// Application applies them on every hub, into the hub's namespace unless
// a set names another, and one that does would land outside some hub's
// Argo CD.
func setNamespaces(sets []Set, hubs []compile.Hub) diag.List {
	var ds diag.List
	for i := range sets {
		st := &sets[i]
		ns := st.Object.Metadata.Namespace
		if !st.Handwritten() || ns == "" {
			continue
		}
		for _, h := range hubs {
			if h.Namespace != ns {
				ds = append(ds, diag.Diagnostic{Pos: st.Pos, Message: fmt.Sprintf("ApplicationSet %q sets metadata.namespace %s, but hub %s runs Argo CD in %s, where the root Application applies it: leave metadata.namespace out", st.Object.Metadata.Name, ns, h.Name, h.Namespace)})
			}
		}
	}
	return ds
}

// checkApps checks each of apps against its project, if fleetc writes
// it (specs), and returns what the projects refuse.
func checkApps(stated map[string]compile.StatedProject, specs map[hubProject]argocd.AppProjectSpec, apps []projectApp) refusals {
	projects := make(map[hubProject]*projectRules, len(specs))
	for k, spec := range specs {
		projects[k] = &projectRules{spec: spec, dests: spec.Matcher(), sourceOK: map[string]bool{}, stated: stated[k.project]}
	}
	r := refusals{}
	for _, a := range apps {
		if p := projects[hubProject{a.cl.Hub, a.project}]; p != nil {
			p.check(a, r)
		}
	}
	return r
}

// projectRules is a project on a hub as checkApps asks it.
type projectRules struct {
	spec argocd.AppProjectSpec
	// dests indexes the destinations once: a project lists every cluster
	// of it, and each of their Applications is checked.
	dests *argocd.ProjectMatcher
	// sourceOK asks each repository once: the Applications of a set on
	// many clusters read the same few, and normalising the URL and every
	// pattern is what costs.
	sourceOK map[string]bool
	stated   compile.StatedProject
}

// check adds to r what p refuses of a: sources, destination and
// cluster-scoped kinds.
func (p *projectRules) check(a projectApp, r refusals) {
	for _, repo := range a.repos {
		permitted, asked := p.sourceOK[repo.s]
		if !asked {
			permitted = p.spec.SourcePermitted(repo.s)
			p.sourceOK[repo.s] = permitted
		}
		if !permitted {
			r.add(a, a.handwrittenPos(func(sp SpecPos) token.Position { return at(sp.Repos, repo.i) }, p.stated.Pos["sourceRepos"]),
				fmt.Sprintf("project %s does not permit the source %s (sourceRepos)", a.project, repo.s))
		}
	}
	p.checkDestination(a, r)
	for _, k := range a.kinds {
		if p.spec.ClusterKindPermitted(k.gk, k.name) {
			continue
		}
		field := "clusterResourceWhitelist"
		if len(p.spec.ClusterResourceWhitelist) > 0 && kindListed(p.spec.ClusterResourceWhitelist, k) {
			field = "clusterResourceBlacklist"
		}
		pos := a.handwrittenPos(func(SpecPos) token.Position { return k.pos }, p.stated.Pos[field])
		r.add(a, pos, fmt.Sprintf("project %s does not permit the cluster-scoped %s (%s)", a.project, kindText(k), field))
	}
}

// checkDestination adds to r a's destination if p refuses it; where only
// the cluster's scope is in the way, the refusal is the cluster's (or
// the hand-written set's project line's).
func (p *projectRules) checkDestination(a projectApp, r refusals) {
	if !a.destOK || p.dests.DestinationPermitted(a.project, a.server, a.name, a.namespace, a.cl.Project) {
		return
	}
	pos := a.handwrittenPos(func(sp SpecPos) token.Position { return sp.Destination }, p.stated.Pos["destinations"])
	why := fmt.Sprintf("project %s does not permit the destination %s, namespace %s (destinations)", a.project, a.server, a.namespace)
	if p.dests.DestinationPermitted(a.project, a.server, a.name, a.namespace, a.project) {
		pos = cmp.Or(a.cl.ProjectPos, a.cl.Pos)
		if a.set.Handwritten() {
			pos = a.set.Spec.Project
		}
		scope := "is scoped to no project"
		if a.cl.Project != "" {
			scope = "is scoped to project " + a.cl.Project
		}
		why = fmt.Sprintf("project %s permits only clusters scoped to it (permitOnlyProjectScopedClusters), and the cluster %s", a.project, scope)
	}
	r.add(a, pos, why)
}

// state replaces the fields of spec that the platform sets.
func state(spec *argocd.AppProjectSpec, p compile.ProjectSetting) {
	stateField(&spec.Description, p.Description)
	stateField(&spec.SourceRepos, p.SourceRepos)
	stateField(&spec.Destinations, p.Destinations)
	stateField(&spec.ClusterResourceWhitelist, p.ClusterResourceWhitelist)
	stateField(&spec.ClusterResourceBlacklist, p.ClusterResourceBlacklist)
	stateField(&spec.PermitOnlyProjectScopedClusters, p.PermitOnlyProjectScopedClusters)
	if spec.SourceRepos == nil {
		spec.SourceRepos = []string{}
	}
	if spec.Destinations == nil {
		spec.Destinations = []argocd.ProjectDestination{}
	}
	if spec.ClusterResourceWhitelist == nil {
		spec.ClusterResourceWhitelist = []argocd.GroupKind{}
	}
}

// stateField sets *field to what the platform states, if it does.
func stateField[T any](field, stated *T) {
	if stated != nil {
		*field = *stated
	}
}

// newProjectApp is the Application st makes for cl.
func newProjectApp(st *Set, cl *HubCluster) projectApp {
	tmpl := st.Object.Spec.Template.Spec
	gt := st.Object.Spec.GoTemplate
	a := projectApp{set: st, cl: cl}
	a.project, _ = resolveParams(tmpl.Project, cl, gt)
	if a.project == "" {
		a.project = argocd.DefaultProject
	}
	for i, src := range tmpl.AllSources() {
		if repo, ok := resolveParams(src.RepoURL, cl, gt); ok {
			a.repos = append(a.repos, indexed{i, repo})
		}
	}
	server, okS := resolveParams(tmpl.Destination.Server, cl, gt)
	name, okN := resolveParams(tmpl.Destination.Name, cl, gt)
	ns, okNS := resolveParams(tmpl.Destination.Namespace, cl, gt)
	// A destination names the cluster by server or by name; fleetc
	// checks it only where that is the cluster it placed the set on.
	if okS && okN && okNS && (server == cl.Server || server == "" && name == cl.Name) {
		a.server, a.name, a.namespace, a.destOK = cl.Server, cl.Name, ns, true
	}
	if tmpl.SyncPolicy != nil && slices.Contains(tmpl.SyncPolicy.SyncOptions, argocd.CreateNamespaceOption) && okNS && ns != "" {
		a.kinds = append(a.kinds, kindNeed{gk: argocd.NamespaceKind, name: ns, pos: st.Spec.CreateNamespace})
	}
	for _, k := range st.ClusterResources {
		a.kinds = append(a.kinds, kindNeed{gk: k, pos: st.Pos})
	}
	return a
}

// handwrittenPos is where a refusal of a is reported: in a hand-written
// set, at the line of its own that asks for what is refused (from part,
// else the set's name); for a generated one, at the platform's setting
// that refuses it, else at the cluster.
func (a projectApp) handwrittenPos(part func(SpecPos) token.Position, setting token.Position) token.Position {
	if a.set.Handwritten() {
		return cmp.Or(part(a.set.Spec), a.set.Pos)
	}
	return cmp.Or(setting, a.cl.Pos)
}

// resolveParams substitutes the cluster generator's name parameter of a
// template string (resolve) and then its server parameter, and fails
// where something else is left to substitute.
func resolveParams(tmpl string, cl *HubCluster, goTemplate bool) (string, bool) {
	tmpl, _ = resolve(tmpl, cl.Name, goTemplate)
	params := [...]string{"{{ server }}", "{{server}}"}
	if goTemplate {
		params = [...]string{"{{ .server }}", argocd.ClusterServerParam}
	}
	for _, p := range params {
		tmpl = strings.ReplaceAll(tmpl, p, cl.Server)
	}
	return tmpl, !strings.Contains(tmpl, "{{")
}

func at(ps []token.Position, i int) token.Position {
	if i < len(ps) {
		return ps[i]
	}
	return token.Position{}
}

// kindListed reports whether the whitelist has k, whatever the
// blacklist says.
func kindListed(list []argocd.GroupKind, k kindNeed) bool {
	return argocd.AppProjectSpec{ClusterResourceWhitelist: list}.ClusterKindPermitted(k.gk, k.name)
}

func kindText(k kindNeed) string {
	g := k.gk.Group
	if g == "" {
		g = "core"
	}
	s := fmt.Sprintf("%s (group %s)", k.gk.Kind, g)
	if k.name != "" {
		s += " " + k.name
	}
	return s
}

// refusals gathers refused Applications by where they are reported and
// why, so that a setting that refuses many is one error: per key, the
// sets and the clusters they are refused on.
type refusals map[refusalKey]map[string][]string

type refusalKey struct {
	pos          token.Position
	why, cluster string
}

func (r refusals) add(a projectApp, pos token.Position, why string) {
	k := refusalKey{pos: pos, why: why}
	if pos == a.cl.Pos || pos == a.cl.ProjectPos {
		// At the cluster: the error is the cluster's.
		k.cluster = a.cl.Name
	}
	if r[k] == nil {
		r[k] = map[string][]string{}
	}
	set := a.set.Object.Metadata.Name
	r[k][set] = append(r[k][set], a.cl.Name)
}

func (r refusals) diags() diag.List {
	var ds diag.List
	for k, bySet := range r {
		sets := slices.Sorted(maps.Keys(bySet))
		var clusters []string
		for _, cs := range bySet {
			clusters = append(clusters, cs...)
		}
		slices.Sort(clusters)
		clusters = slices.Compact(clusters)
		what := fmt.Sprintf("the Application of ApplicationSet %q", sets[0])
		if len(sets) > 1 {
			what = fmt.Sprintf("the Applications of %d ApplicationSets (%s)", len(sets), strings.Join(sets, ", "))
		}
		on := "cluster " + clusters[0]
		if len(clusters) > 1 {
			on = fmt.Sprintf("%d clusters (%s)", len(clusters), strings.Join(clusters, ", "))
		}
		ds = append(ds, diag.Diagnostic{Pos: k.pos, Cluster: k.cluster,
			Message: fmt.Sprintf("Argo CD would refuse %s on %s: %s", what, on, k.why)})
	}
	return ds.Sorted()
}
