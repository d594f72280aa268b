package placement

import (
	"cmp"
	"slices"
	"strings"

	"github.com/fleetc/fleetc/internal/argocd"
)

// profile is what a cluster is for the summary: its env and the bundles it
// enables, which decide the generated ApplicationSets that select it.
type profile struct {
	env     string
	bundles []string
}

// Group is the clusters of one env that enable the same bundles, and so
// get the same generated apps: at 3,000 clusters the fleet is a few dozen
// groups where it is thousands of columns.
type Group struct {
	Env string `json:"env"`
	// Bundles are the bundles the clusters enable, sorted.
	Bundles  []string `json:"bundles"`
	Clusters []string `json:"clusters"`
	// MinApps and MaxApps are the fewest and the most Applications one of
	// its clusters gets from the ApplicationSets of the matrix: equal
	// unless a hand-written set selects on another label.
	MinApps int `json:"minApps"`
	MaxApps int `json:"maxApps"`
	// Applications counts the Applications of all its clusters.
	Applications int `json:"applications"`
}

// Env is the env of cluster, "" if it has none or is unknown.
func (m *Matrix) Env(cluster string) string { return m.profiles[cluster].env }

// Envs are the envs of the platform, in its order.
func (m *Matrix) Envs() []string { return m.envs }

// Groups groups the clusters of m by env and enabled bundles: envs in the
// platform's order (an unknown one last), then the largest group first.
func (m *Matrix) Groups() []Group {
	apps := make(map[string]int, len(m.Clusters))
	for _, r := range m.Sets {
		for _, c := range r.Clusters {
			apps[c]++
		}
	}
	byKey := map[string]*Group{}
	var groups []*Group
	for _, c := range m.Clusters {
		p := m.profiles[c]
		key := p.env + "\x00" + strings.Join(p.bundles, ",")
		g := byKey[key]
		if g == nil {
			g = &Group{Env: p.env, Bundles: slices.Clip(p.bundles), MinApps: apps[c], MaxApps: apps[c]}
			if g.Bundles == nil {
				g.Bundles = []string{}
			}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.Clusters = append(g.Clusters, c)
		g.MinApps, g.MaxApps = min(g.MinApps, apps[c]), max(g.MaxApps, apps[c])
		g.Applications += apps[c]
	}
	rank := func(env string) int {
		if i := slices.Index(m.envs, env); i >= 0 {
			return i
		}
		return len(m.envs)
	}
	slices.SortFunc(groups, func(a, b *Group) int {
		return cmp.Or(
			cmp.Compare(rank(a.Env), rank(b.Env)),
			strings.Compare(a.Env, b.Env),
			cmp.Compare(len(b.Clusters), len(a.Clusters)),
			slices.Compare(a.Bundles, b.Bundles),
		)
	})
	out := make([]Group, len(groups))
	for i, g := range groups {
		out[i] = *g
	}
	return out
}

// Filter returns the part of m that concerns the named ApplicationSets
// (all if none is named) and clusters (all if none is named); names m
// does not have are ignored.
func (m *Matrix) Filter(sets, clusters []string) *Matrix {
	out := &Matrix{Clusters: []string{}, Sets: []Row{}, profiles: m.profiles, envs: m.envs}
	// A set of the names: compile --cluster filters every row of the
	// whole fleet by the clusters it names, which may be many.
	keeper := func(names []string) func(string) bool {
		if len(names) == 0 {
			return func(string) bool { return true }
		}
		in := make(map[string]bool, len(names))
		for _, n := range names {
			in[n] = true
		}
		return func(name string) bool { return in[name] }
	}
	keepSet, keepCluster := keeper(sets), keeper(clusters)
	for _, c := range m.Clusters {
		if keepCluster(c) {
			out.Clusters = append(out.Clusters, c)
		}
	}
	for _, r := range m.Sets {
		if !keepSet(r.Name) {
			continue
		}
		row := r
		row.Clusters = slices.DeleteFunc(slices.Clone(r.Clusters), func(c string) bool { return !keepCluster(c) })
		out.Sets = append(out.Sets, row)
	}
	return out
}

// clusterProfile reads a cluster's env and enabled bundles off its labels.
func clusterProfile(cl Cluster, v Vocabulary) profile {
	p := profile{env: cl.Labels[argocd.EnvLabel]}
	for _, k := range sortedKeys(cl.Labels) {
		if v.isBundle(k) && cl.Labels[k] == argocd.BundleEnabled {
			p.bundles = append(p.bundles, k)
		}
	}
	return p
}
