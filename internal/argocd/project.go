package argocd

import (
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/gobwas/glob"
)

// Argo CD AppProject and Application constants, as in argo-cd's
// pkg/apis/application/v1alpha1.
const (
	// AppProjectKind is the kind of AppProject.
	AppProjectKind = "AppProject"
	// ApplicationKind is the kind of Application.
	ApplicationKind = "Application"
	// InClusterServer is the API server of the cluster Argo CD runs in, as
	// Argo CD names it.
	InClusterServer = "https://kubernetes.default.svc"
	// DefaultProject is the project every Argo CD creates and that
	// permits everything until someone restricts it.
	DefaultProject = "default"
	// SyncWaveAnnotation orders the resources of one sync: lower waves
	// are applied, and healthy, first.
	SyncWaveAnnotation = "argocd.argoproj.io/sync-wave"
)

// AppProject is an argoproj.io/v1alpha1 AppProject with the fields fleetc
// writes: which repositories its Applications may read, where they may
// deploy, and which cluster-scoped kinds they may create.
type AppProject struct {
	APIVersion string         `yaml:"apiVersion" json:"apiVersion"`
	Kind       string         `yaml:"kind" json:"kind"`
	Metadata   ObjectMeta     `yaml:"metadata" json:"metadata"`
	Spec       AppProjectSpec `yaml:"spec" json:"spec"`
}

// AppProjectSpec is an AppProject's spec.
type AppProjectSpec struct {
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// SourceRepos are glob patterns of repository URLs, compared after
	// NormalizeGitURL with '/' as separator; a pattern that begins with
	// ! denies what it matches.
	SourceRepos []string `yaml:"sourceRepos" json:"sourceRepos"`
	// Destinations are glob patterns of server or name and namespace,
	// each of which may be negated with !.
	Destinations []ProjectDestination `yaml:"destinations" json:"destinations"`
	// ClusterResourceWhitelist are the cluster-scoped kinds Applications
	// may manage (filepath.Match patterns); empty permits none.
	ClusterResourceWhitelist []GroupKind `yaml:"clusterResourceWhitelist" json:"clusterResourceWhitelist"`
	// ClusterResourceBlacklist are cluster-scoped kinds refused even
	// when the whitelist has them.
	ClusterResourceBlacklist []GroupKind `yaml:"clusterResourceBlacklist,omitempty" json:"clusterResourceBlacklist,omitempty"`
	// PermitOnlyProjectScopedClusters limits the project to clusters whose
	// registration names it (a cluster's argocd.project).
	PermitOnlyProjectScopedClusters bool `yaml:"permitOnlyProjectScopedClusters,omitempty" json:"permitOnlyProjectScopedClusters,omitempty"`
}

// ProjectDestination is one destination an AppProject permits.
type ProjectDestination struct {
	Server    string `yaml:"server,omitempty" json:"server,omitempty"`
	Name      string `yaml:"name,omitempty" json:"name,omitempty"`
	Namespace string `yaml:"namespace" json:"namespace"`
}

// GroupKind is an API group and kind, with an optional name, as an
// AppProject's cluster resource lists hold them. The core group is "".
type GroupKind struct {
	Group string `yaml:"group" json:"group"`
	Kind  string `yaml:"kind" json:"kind"`
	// Name restricts the entry to objects of that name (a filepath.Match
	// pattern); empty is every object.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
}

// The cluster-scoped kinds fleetc knows that apps need.
var (
	// NamespaceKind is what CreateNamespace=true creates.
	NamespaceKind = GroupKind{Group: "", Kind: "Namespace"}
	// CRDKind is what charts that install CustomResourceDefinitions create.
	CRDKind = GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
)

// Application is an argoproj.io/v1alpha1 Application: fleetc writes one
// per hub, the root that syncs the rest of the hub's objects.
type Application struct {
	APIVersion string          `yaml:"apiVersion" json:"apiVersion"`
	Kind       string          `yaml:"kind" json:"kind"`
	Metadata   ObjectMeta      `yaml:"metadata" json:"metadata"`
	Spec       ApplicationSpec `yaml:"spec" json:"spec"`
}

// isDeny reports whether a pattern denies what it matches.
func isDeny(pattern string) bool { return strings.HasPrefix(pattern, "!") }

// globMatch matches val against pattern as Argo CD's AppProject does: a
// denying pattern (with negation allowed) is true for what it does not
// match, "*" matches everything, and a pattern that does not compile
// matches nothing.
func globMatch(pattern, val string, allowNegation bool, separators ...rune) bool {
	if allowNegation && isDeny(pattern) {
		return !match(pattern[1:], val, separators...)
	}
	if pattern == "*" {
		return true
	}
	return match(pattern, val, separators...)
}

// match is Argo CD's util/glob.Match: the gobwas/glob syntax Argo CD
// compiles its patterns with.
func match(pattern, val string, separators ...rune) bool {
	g := compiled(pattern, separators)
	return g != nil && g.Match(val)
}

// globs holds every pattern compiled so far, by its separators and text:
// a fleet checks each project's few patterns against thousands of
// Applications, and compiling is what costs.
var globs sync.Map // string -> glob.Glob (nil for a pattern that does not compile)

func compiled(pattern string, separators []rune) glob.Glob {
	key := string(separators) + "\x00" + pattern
	if g, ok := globs.Load(key); ok {
		g, _ := g.(glob.Glob)
		return g
	}
	g, err := glob.Compile(pattern, separators...)
	if err != nil {
		g = nil
	}
	globs.Store(key, g)
	return g
}

// exactGlob returns the text a glob pattern matches when it matches exactly
// one string (no wildcard, class or alternative; escapes resolved).
func exactGlob(pattern string) (string, bool) {
	if isDeny(pattern) || !strings.ContainsAny(pattern, "*?[]{}\\") {
		return pattern, !isDeny(pattern)
	}
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '\\':
			if i+1 == len(pattern) {
				return "", false
			}
			i++
			b.WriteByte(pattern[i])
		case '*', '?', '[', ']', '{', '}':
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// QuoteGlob escapes what Argo CD's glob patterns would read as syntax, so
// that the pattern matches s alone: an IPv6 server such as
// https://[fd00::1]:6443 is otherwise a character class, and a project
// that lists it unescaped does not permit it.
func QuoteGlob(s string) string { return glob.QuoteMeta(s) }

// sshURL is what Argo CD takes for an SSH repository URL (user@host...).
var sshURL = regexp.MustCompile("^(ssh://)?([^/:]*?)@[^@]+$")

// NormalizeGitURL is the form of a repository URL Argo CD compares
// sourceRepos in: lower case, an scp-like git@host:path as host/path, no
// .git suffix, no ssh:// scheme. "" for a URL that does not parse.
func NormalizeGitURL(repo string) string {
	repo = strings.ToLower(strings.TrimSpace(repo))
	if sshURL.MatchString(repo) && !strings.HasPrefix(repo, "ssh://") {
		repo = "ssh://" + strings.Replace(repo, ":", "/", 1)
	}
	repo = strings.TrimSuffix(repo, ".git")
	u, err := url.Parse(repo)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.String(), "ssh://")
}

// SourcePermitted reports whether the project lets an Application read
// repo, by Argo CD's rule: some pattern matches, and no denying pattern
// matches (a denial refuses even after an earlier match).
func (p AppProjectSpec) SourcePermitted(repo string) bool {
	src := NormalizeGitURL(repo)
	any := false
	for _, r := range p.SourceRepos {
		n := NormalizeGitURL(r)
		if isDeny(r) {
			n = "!" + NormalizeGitURL(strings.TrimPrefix(r, "!"))
		}
		switch {
		case globMatch(n, src, true, '/'):
			any = true
		case isDeny(n):
			return false
		}
	}
	return any
}

// DestinationPermitted reports whether project may deploy to namespace
// of the cluster with server and name, whose registration scopes it to
// clusterProject ("" for none), by Argo CD's rule
// (AppProject.IsDestinationPermitted).
func (p AppProjectSpec) DestinationPermitted(project, server, name, namespace, clusterProject string) bool {
	return p.destinationMatched(server, name, namespace) && p.scopeAllows(project, clusterProject)
}

// scopeAllows reports whether project may deploy to a cluster scoped to
// clusterProject: any cluster, unless PermitOnlyProjectScopedClusters.
func (p AppProjectSpec) scopeAllows(project, clusterProject string) bool {
	return !p.PermitOnlyProjectScopedClusters || clusterProject == project
}

// destinationMatched follows Argo CD's isDestinationMatched, including
// how its conditions group: a denied name refuses whatever the namespace,
// a denied server only where the namespace matches.
func (p AppProjectSpec) destinationMatched(server, name, namespace string) bool {
	matched, denied := p.destinations(server, name, namespace)
	return matched && !denied
}

// destinations says whether some destination matches and whether one
// denies; Argo CD's loop returns false at the first denial, so the order
// of the two does not matter.
func (p AppProjectSpec) destinations(server, name, namespace string) (matched, denied bool) {
	for _, d := range p.Destinations {
		nameOK := name != "" && globMatch(d.Name, name, true)
		serverOK := server != "" && globMatch(d.Server, server, true)
		nsOK := globMatch(d.Namespace, namespace, true)
		switch {
		case (serverOK || nameOK) && nsOK:
			matched = true
		case (!nameOK && isDeny(d.Name)) || (!serverOK && isDeny(d.Server) && nsOK):
			return matched, true
		case !nsOK && isDeny(d.Namespace) && serverOK:
			return matched, true
		}
	}
	return matched, false
}

// A ProjectMatcher answers AppProjectSpec's questions for many
// Applications at once: destinations that name one server (or cluster
// name) and one namespace exactly are looked up, the rest matched as
// globs, so that checking every Application of a fleet against a
// project that lists every cluster costs a lookup each, not a scan of the
// list.
type ProjectMatcher struct {
	spec AppProjectSpec
	// byServer and byName are the exact destinations; other the rest, in
	// order.
	byServer, byName map[[2]string]bool
	other            []ProjectDestination
}

// Matcher indexes p's destinations for DestinationPermitted.
func (p AppProjectSpec) Matcher() *ProjectMatcher {
	m := &ProjectMatcher{spec: p, byServer: map[[2]string]bool{}, byName: map[[2]string]bool{}}
	for _, d := range p.Destinations {
		ns, nsExact := exactGlob(d.Namespace)
		server, serverExact := exactGlob(d.Server)
		name, nameExact := exactGlob(d.Name)
		if !nsExact || !serverExact || !nameExact {
			m.other = append(m.other, d)
			continue
		}
		// Exact patterns never deny; each matches its own string only.
		if server != "" {
			m.byServer[[2]string{server, ns}] = true
		}
		if name != "" {
			m.byName[[2]string{name, ns}] = true
		}
	}
	return m
}

// DestinationPermitted is AppProjectSpec.DestinationPermitted.
func (m *ProjectMatcher) DestinationPermitted(project, server, name, namespace, clusterProject string) bool {
	return m.destinationMatched(server, name, namespace) && m.spec.scopeAllows(project, clusterProject)
}

// destinationMatched is AppProjectSpec.destinationMatched: whether any
// destination matches and none denies, which does not depend on their
// order, over the index and the rest.
func (m *ProjectMatcher) destinationMatched(server, name, namespace string) bool {
	any := server != "" && m.byServer[[2]string{server, namespace}] || name != "" && m.byName[[2]string{name, namespace}]
	if len(m.other) == 0 {
		return any
	}
	matched, denied := AppProjectSpec{Destinations: m.other}.destinations(server, name, namespace)
	return (any || matched) && !denied
}

// ClusterKindPermitted reports whether the project lets an Application
// manage a cluster-scoped object of kind gk named name, by Argo CD's rule
// (IsGroupKindNamePermitted): in a non-empty whitelist and not in the
// blacklist, kind, group and name compared with filepath.Match. An empty
// name stands for an object whose name fleetc does not know: entries
// that restrict names are then taken to permit it.
func (p AppProjectSpec) ClusterKindPermitted(gk GroupKind, name string) bool {
	return len(p.ClusterResourceWhitelist) > 0 && kindInList(gk, name, p.ClusterResourceWhitelist, true) &&
		!kindInList(gk, name, p.ClusterResourceBlacklist, false)
}

// kindInList is Argo CD's isNamedResourceInList; unknown says what an
// entry with a name pattern means for an object of unknown name.
func kindInList(gk GroupKind, name string, list []GroupKind, unknown bool) bool {
	for _, item := range list {
		if ok, err := filepath.Match(item.Kind, gk.Kind); !ok || err != nil {
			continue
		}
		if ok, err := filepath.Match(item.Group, gk.Group); !ok || err != nil {
			continue
		}
		if item.Name == "" {
			return true
		}
		if name == "" {
			if unknown {
				return true
			}
			continue
		}
		if ok, err := filepath.Match(item.Name, name); ok && err == nil {
			return true
		}
	}
	return false
}
