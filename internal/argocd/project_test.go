package argocd

import (
	"slices"
	"testing"
)

// The cases follow Argo CD's AppProject (pkg/apis/application/v1alpha1:
// IsSourcePermitted, isDestinationMatched, IsGroupKindNamePermitted) and
// util/git.NormalizeGitURL, rule by rule.

func TestNormalizeGitURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"git@git.corp.local:mirror/catalog.git", "git@git.corp.local/mirror/catalog"},
		{"ssh://git@git.corp.local/mirror/catalog.git", "git@git.corp.local/mirror/catalog"},
		{" GIT@Git.Corp.Local:Mirror/Catalog ", "git@git.corp.local/mirror/catalog"},
		{"https://github.com/org/repo.git", "https://github.com/org/repo"},
		{"https://github.com/org/repo", "https://github.com/org/repo"},
		{"https://github.com/org/*", "https://github.com/org/*"},
		{"git@git.corp.local:mirror/*", "git@git.corp.local/mirror/*"},
	} {
		if got := NormalizeGitURL(c.in); got != c.want {
			t.Errorf("NormalizeGitURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSourcePermitted(t *testing.T) {
	const catalog = "git@git.corp.local:mirror/kubernetes-service-catalog.git"
	for _, c := range []struct {
		name  string
		repos []string
		repo  string
		want  bool
	}{
		{"none permits nothing", nil, catalog, false},
		{"star permits all", []string{"*"}, catalog, true},
		{"same repository in another spelling", []string{"ssh://GIT@git.corp.local/mirror/kubernetes-service-catalog"}, catalog, true},
		{"another repository", []string{"git@git.corp.local:platformteam/service-value-repo"}, catalog, false},
		{"glob within one path segment", []string{"git@git.corp.local:mirror/*"}, catalog, true},
		{"star stops at a slash", []string{"git@git.corp.local:*"}, catalog, false},
		{"double star crosses slashes", []string{"git@git.corp.local:**"}, catalog, true},
		{"https glob", []string{"https://github.com/org/*"}, "https://github.com/org/repo.git", true},
		{"https glob, other org", []string{"https://github.com/org/*"}, "https://github.com/other/repo", false},
		{"denied after star", []string{"*", "!" + catalog}, catalog, false},
		{"denied before star", []string{"!" + catalog, "*"}, catalog, false},
		{"denial of another repository permits", []string{"*", "!git@git.corp.local:mirror/other"}, catalog, true},
		// A list of denials alone permits every repository it does not deny.
		{"denial alone permits the rest", []string{"!git@git.corp.local:mirror/other"}, catalog, true},
		{"denial by glob", []string{"*", "!git@git.corp.local:mirror/*"}, catalog, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := AppProjectSpec{SourceRepos: c.repos}
			if got := p.SourcePermitted(c.repo); got != c.want {
				t.Errorf("sourceRepos %q, repo %s: permitted %v, want %v", c.repos, c.repo, got, c.want)
			}
		})
	}
}

func TestDestinationPermitted(t *testing.T) {
	const server, name = "https://api.payments-prod.k8s.corp.local", "payments-prod"
	d := func(server, name, ns string) ProjectDestination {
		return ProjectDestination{Server: server, Name: name, Namespace: ns}
	}
	for _, c := range []struct {
		test      string
		dests     []ProjectDestination
		namespace string
		scoped    bool // the cluster is scoped to the project
		only      bool // permitOnlyProjectScopedClusters
		want      bool
	}{
		{"none permits nothing", nil, "core", false, false, false},
		{"exact", []ProjectDestination{d(server, "", "core")}, "core", false, false, true},
		{"other namespace", []ProjectDestination{d(server, "", "core")}, "monitoring", false, false, false},
		{"any namespace", []ProjectDestination{d(server, "", "*")}, "monitoring", false, false, true},
		{"server glob", []ProjectDestination{d("https://*.k8s.corp.local", "", "*")}, "core", false, false, true},
		{"server glob has no separator", []ProjectDestination{d("https://*", "", "*")}, "core", false, false, true},
		{"namespace glob", []ProjectDestination{d("*", "", "payments-*")}, "payments-batch", false, false, true},
		{"by name", []ProjectDestination{d("", "payments-*", "*")}, "core", false, false, true},
		{"by other name", []ProjectDestination{d("", "edge-*", "*")}, "core", false, false, false},
		{"denied namespace", []ProjectDestination{d("*", "", "!kube-system")}, "kube-system", false, false, false},
		{"denial of another namespace permits", []ProjectDestination{d("*", "", "!kube-system")}, "core", false, false, true},
		{"denied namespace after a match", []ProjectDestination{d("*", "", "*"), d("*", "", "!kube-system")}, "kube-system", false, false, false},
		{"denied server", []ProjectDestination{d("*", "", "*"), d("!"+server, "", "*")}, "core", false, false, false},
		// A denied server refuses only where the entry's namespace matches.
		{"denied server, other namespace", []ProjectDestination{d("*", "", "*"), d("!"+server, "", "core")}, "monitoring", false, false, true},
		{"denied server, its namespace", []ProjectDestination{d("*", "", "*"), d("!"+server, "", "core")}, "core", false, false, false},
		// A denied name refuses whatever the namespace.
		{"denied name", []ProjectDestination{d("*", "", "*"), d("", "!"+name, "core")}, "monitoring", false, false, false},
		{"scoped clusters only, unscoped", []ProjectDestination{d("*", "", "*")}, "core", false, true, false},
		{"scoped clusters only, scoped", []ProjectDestination{d("*", "", "*")}, "core", true, true, true},
		{"scoped clusters only, not a destination", []ProjectDestination{d("https://other", "", "*")}, "core", true, true, false},
	} {
		t.Run(c.test, func(t *testing.T) {
			p := AppProjectSpec{Destinations: c.dests, PermitOnlyProjectScopedClusters: c.only}
			clusterProject := "other"
			if c.scoped {
				clusterProject = "payments"
			}
			if got := p.DestinationPermitted("payments", server, name, c.namespace, clusterProject); got != c.want {
				t.Errorf("destinations %+v, namespace %s: permitted %v, want %v", c.dests, c.namespace, got, c.want)
			}
			// The index over exact destinations answers the same, with
			// the destinations in either order and an exact one added.
			for _, dests := range [][]ProjectDestination{c.dests, reversed(c.dests), append(slices.Clone(c.dests), d(QuoteGlob("https://[fd00::1]:6443"), "", "core"))} {
				q := p
				q.Destinations = dests
				if got := q.Matcher().DestinationPermitted("payments", server, name, c.namespace, clusterProject); got != c.want {
					t.Errorf("Matcher of destinations %+v, namespace %s: permitted %v, want %v", dests, c.namespace, got, c.want)
				}
			}
		})
	}
}

func TestClusterKindPermitted(t *testing.T) {
	gk := func(g, k, n string) GroupKind { return GroupKind{Group: g, Kind: k, Name: n} }
	for _, c := range []struct {
		test       string
		white      []GroupKind
		black      []GroupKind
		kind       GroupKind
		objectName string
		want       bool
	}{
		{"empty whitelist permits none", nil, nil, NamespaceKind, "core", false},
		{"listed", []GroupKind{NamespaceKind}, nil, NamespaceKind, "core", true},
		{"other kind", []GroupKind{NamespaceKind}, nil, CRDKind, "", false},
		{"any", []GroupKind{gk("*", "*", "")}, nil, CRDKind, "", true},
		{"group glob", []GroupKind{gk("*.k8s.io", "*", "")}, nil, CRDKind, "", true},
		{"core group is empty, not a star's match of nothing", []GroupKind{gk("?*", "Namespace", "")}, nil, NamespaceKind, "core", false},
		{"blacklisted", []GroupKind{gk("*", "*", "")}, []GroupKind{NamespaceKind}, NamespaceKind, "core", false},
		{"named", []GroupKind{gk("", "Namespace", "core")}, nil, NamespaceKind, "core", true},
		{"named other", []GroupKind{gk("", "Namespace", "core")}, nil, NamespaceKind, "monitoring", false},
		{"name glob", []GroupKind{gk("", "Namespace", "payments-*")}, nil, NamespaceKind, "payments-batch", true},
		{"blacklisted by name", []GroupKind{gk("*", "*", "")}, []GroupKind{gk("", "Namespace", "kube-*")}, NamespaceKind, "kube-system", false},
		{"blacklisted other name", []GroupKind{gk("*", "*", "")}, []GroupKind{gk("", "Namespace", "kube-*")}, NamespaceKind, "core", true},
		// fleetc does not know the names of a chart's CRDs: a name
		// restriction is taken to permit them, and a blacklist by name
		// not to refuse them.
		{"unknown name, named entry", []GroupKind{gk("apiextensions.k8s.io", "CustomResourceDefinition", "*.coreos.com")}, nil, CRDKind, "", true},
		{"unknown name, blacklisted by name", []GroupKind{gk("*", "*", "")}, []GroupKind{gk("apiextensions.k8s.io", "*", "x")}, CRDKind, "", true},
	} {
		t.Run(c.test, func(t *testing.T) {
			p := AppProjectSpec{ClusterResourceWhitelist: c.white, ClusterResourceBlacklist: c.black}
			if got := p.ClusterKindPermitted(c.kind, c.objectName); got != c.want {
				t.Errorf("whitelist %+v, blacklist %+v, %+v %q: permitted %v, want %v", c.white, c.black, c.kind, c.objectName, got, c.want)
			}
		})
	}
}

// An IPv6 server in a destination is a glob: unquoted, its brackets are a
// character class and Argo CD does not permit the server itself.
func TestQuoteGlob(t *testing.T) {
	const server = "https://[fd00::9]:6443"
	for _, c := range []struct {
		pattern string
		want    bool
	}{{server, false}, {QuoteGlob(server), true}} {
		p := AppProjectSpec{Destinations: []ProjectDestination{{Server: c.pattern, Namespace: "*"}}}
		if got := p.DestinationPermitted("p", server, "c", "core", ""); got != c.want {
			t.Errorf("destination %s, server %s: permitted %v, want %v", c.pattern, server, got, c.want)
		}
	}
	if got := QuoteGlob("https://a.k8s.corp.local:6443/path"); got != "https://a.k8s.corp.local:6443/path" {
		t.Errorf("QuoteGlob changed a server without glob syntax: %s", got)
	}
}

func reversed[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func TestExactGlob(t *testing.T) {
	for pattern, want := range map[string]string{
		"core": "core", QuoteGlob("https://[fd00::1]:6443"): "https://[fd00::1]:6443", "": "",
	} {
		if got, ok := exactGlob(pattern); !ok || got != want {
			t.Errorf("exactGlob(%q) = %q, %v; want %q", pattern, got, ok, want)
		}
	}
	for _, pattern := range []string{"*", "payments-*", "!core", "a?c", "[ab]", "{a,b}", `trailing\`} {
		if _, ok := exactGlob(pattern); ok {
			t.Errorf("exactGlob(%q) is exact", pattern)
		}
	}
}
