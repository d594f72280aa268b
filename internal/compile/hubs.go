package compile

import (
	"cmp"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/token"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/diag"
)

// HubsDir is the directory of the output tree that holds every hub's Argo
// CD objects: with one hub, they are directly in it; with several, each
// hub's are in HubsDir/<hub>.
const HubsDir = "argocd"

// DefaultHub names the one hub of a platform that names none.
const DefaultHub = "hub"

// HubSetting is one entry of platform.argocd.hubs as written.
type HubSetting struct {
	Envs      []string `json:"envs"`
	Namespace string   `json:"namespace"`
	Revision  *string  `json:"revision"`
}

// Hub is one Argo CD instance of the platform: it registers the clusters
// of its envs, and its root Application syncs Dir of the output tree.
type Hub struct {
	Name string
	// Envs are the envs whose clusters it registers, sorted.
	Envs []string
	// Namespace is where its Argo CD runs.
	Namespace string
	// Revision is the values repository's revision its root Application
	// syncs, nil where the platform does not say (see HubRevision).
	Revision *string
	// Dir is the directory of its objects in the output tree.
	Dir string
}

// ProjectSetting is one entry of platform.argocd.projects: each field the
// platform sets replaces what fleetc computes.
type ProjectSetting struct {
	Description                     *string                      `json:"description"`
	SourceRepos                     *[]string                    `json:"sourceRepos"`
	Destinations                    *[]argocd.ProjectDestination `json:"destinations"`
	ClusterResourceWhitelist        *[]argocd.GroupKind          `json:"clusterResourceWhitelist"`
	ClusterResourceBlacklist        *[]argocd.GroupKind          `json:"clusterResourceBlacklist"`
	PermitOnlyProjectScopedClusters *bool                        `json:"permitOnlyProjectScopedClusters"`
}

// StatedProject is a project the platform states, with where each field
// it sets is written, keyed by its name in ProjectSetting's JSON form:
// an Application the project refuses is reported there.
type StatedProject struct {
	ProjectSetting
	Pos map[string]token.Position
}

// hubsPath and projectsPath are where, in the platform settings, the hubs
// and the stated projects are.
var (
	hubsPath     = cue.ParsePath("argocd.hubs")
	projectsPath = cue.ParsePath("argocd.projects")
)

// Hub is the hub that registers the clusters of env, or nil for an env no
// hub has (which readHubs refuses).
func (s *Settings) Hub(env string) *Hub {
	for i := range s.Hubs {
		if slices.Contains(s.Hubs[i].Envs, env) {
			return &s.Hubs[i]
		}
	}
	return nil
}

// HubRevision is the revision of the values repository that hub's root
// Application syncs: the hub's own, else the one the values of all its
// envs follow (envRevision), else "" (the repository's HEAD).
func HubRevision(hub *Hub, envRevision func(env string) string) string {
	if hub.Revision != nil {
		return *hub.Revision
	}
	rev := ""
	for i, e := range hub.Envs {
		r := envRevision(e)
		if i > 0 && r != rev {
			return ""
		}
		rev = r
	}
	return rev
}

// readHubs resolves the hubs of the platform settings pv into s.Hubs
// and reads the projects it states into s.Projects. Without hubs, one
// hub, DefaultHub, registers every env in the platform's Argo CD
// namespace; with hubs, every env of platform.envs must be on exactly
// one of them.
func readHubs(pv cue.Value, s *Settings) diag.List {
	envs := make([]string, 0, len(s.Envs))
	for e := range s.Envs {
		envs = append(envs, e)
	}
	slices.Sort(envs)
	var ds diag.List
	if len(s.ArgoCD.Hubs) == 0 {
		s.Hubs = []Hub{{Name: DefaultHub, Envs: envs, Namespace: s.ArgoCD.Namespace, Dir: HubsDir}}
	} else {
		at := func(p ...cue.Selector) token.Position {
			return settingPos(pv.LookupPath(hubsPath).LookupPath(cue.MakePath(p...)))
		}
		owner := map[string]string{}
		for _, n := range slices.Sorted(maps.Keys(s.ArgoCD.Hubs)) {
			h := s.ArgoCD.Hubs[n]
			hub := Hub{Name: n, Namespace: cmp.Or(h.Namespace, s.ArgoCD.Namespace), Revision: h.Revision, Dir: path.Join(HubsDir, n)}
			for i, e := range h.Envs {
				pos := at(cue.Str(n), cue.Str("envs"), cue.Index(i))
				switch {
				case s.Envs != nil && !slices.Contains(envs, e):
					ds = append(ds, diag.Diagnostic{Pos: pos, Message: fmt.Sprintf("platform.argocd.hubs.%s.envs: %q is not an env of platform.envs (%s)", n, e, strings.Join(envs, ", "))})
				case owner[e] != "":
					ds = append(ds, diag.Diagnostic{Pos: pos, Message: fmt.Sprintf("platform.argocd.hubs.%s.envs: env %s is on hub %s already: a cluster is registered on exactly one hub", n, e, owner[e])})
				default:
					owner[e] = n
					hub.Envs = append(hub.Envs, e)
				}
			}
			slices.Sort(hub.Envs)
			// The schema of defs says so too; a platform without it
			// still gets only a namespace Kubernetes accepts.
			if errs := validation.IsDNS1123Label(hub.Namespace); h.Namespace != "" && len(errs) > 0 {
				ds = append(ds, diag.Diagnostic{Pos: at(cue.Str(n), cue.Str("namespace")), Message: fmt.Sprintf("platform.argocd.hubs.%s.namespace: %q is not a namespace name: %s", n, h.Namespace, strings.Join(errs, "; "))})
			}
			if len(h.Envs) == 0 {
				ds = append(ds, diag.Diagnostic{Pos: at(cue.Str(n)), Message: fmt.Sprintf("platform.argocd.hubs.%s: a hub without envs registers no cluster: give it envs or remove it", n)})
			}
			if h.Revision != nil {
				if err := argocd.CheckRevision(*h.Revision); err != nil {
					ds = append(ds, diag.Diagnostic{Pos: at(cue.Str(n), cue.Str("revision")), Message: fmt.Sprintf("platform.argocd.hubs.%s.revision: %v", n, err)})
				}
			}
			s.Hubs = append(s.Hubs, hub)
		}
		for _, e := range envs {
			if owner[e] == "" {
				ds = append(ds, diag.Diagnostic{Pos: settingPos(pv.LookupPath(hubsPath)), Message: fmt.Sprintf("platform.argocd.hubs: env %s is on no hub, so its clusters would be registered nowhere: add it to the envs of one hub", e)})
			}
		}
	}
	s.Projects = map[string]StatedProject{}
	for n, p := range s.ArgoCD.Projects {
		sp := StatedProject{ProjectSetting: p, Pos: map[string]token.Position{}}
		pp := pv.LookupPath(projectsPath).LookupPath(cue.MakePath(cue.Str(n)))
		for _, f := range []string{"sourceRepos", "destinations", "clusterResourceWhitelist", "clusterResourceBlacklist", "permitOnlyProjectScopedClusters"} {
			if fv := pp.LookupPath(cue.MakePath(cue.Str(f))); fv.Exists() {
				sp.Pos[f] = settingPos(fv)
			}
		}
		s.Projects[n] = sp
	}
	if len(ds) == 0 {
		return nil
	}
	return ds.Sorted()
}

// settingPos is where the platform sets v: the conjunct that holds all of
// v's value, rather than the schema that constrains it, which is where
// Value.Pos may point.
func settingPos(v cue.Value) token.Position {
	if op, args := v.Expr(); op == cue.AndOp {
		for _, a := range args {
			if a.Pos().IsValid() && a.Equals(v) {
				return a.Pos().Position()
			}
		}
	}
	return v.Pos().Position()
}
