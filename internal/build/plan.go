package build

import (
	"slices"
	"strings"
	"time"

	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/placement"
	"github.com/fleetc/fleetc/internal/render"
)

// Plan is the output of a build before it is written or compared: every
// file it owns, in scope.
type Plan struct {
	OutDir string
	// Files are sorted by path.
	Files []render.File
	// Scope says which owned paths the plan manages (output.Plan.Scope);
	// nil means all, as for a build of every cluster.
	Scope func(string) bool
	// Clusters is how many clusters the plan is of.
	Clusters int
	// Secrets are the inline cluster Secrets, when Config.ReadSecret is
	// set, and SecretScope the paths they own among the secrets; they are
	// never in Files.
	Secrets     []render.File
	SecretScope func(string) bool
	// Outputs are the per-cluster results of the selected clusters, and
	// Fleet those of every cluster, sorted by cluster: with
	// Config.Clusters, the other clusters are compiled too, for the
	// fleet-wide checks.
	Outputs, Fleet []*render.Output
	// Placement says which ApplicationSet deploys to which selected
	// cluster; nil when the cache knew that the checks pass and
	// Config.Placement did not ask for it.
	Placement *placement.Matrix

	// handwritten are the hand-written ApplicationSets as cache keys hold
	// them, when the cache is on and they passed.
	handwritten []byte
}

// rendered is what the render step makes of one cluster.
type rendered struct {
	out    *render.Output
	secret render.File
}

// Plan compiles and renders the platform's clusters and runs the
// fleet-wide checks. Clusters the cache has are not evaluated again.
func (b *Platform) Plan() (*Plan, error) {
	p, settings, cc, cfg := b.Sources, b.Settings, b.cc, b.cfg
	var fleetStats compile.Stats
	// With Clusters, the other clusters are compiled too (from the cache
	// where it has them), so that every fleet-wide check sees the whole
	// fleet; only the selected clusters' files are planned.
	opts := compile.Options{Clusters: cfg.Clusters, WithFleet: true, ReadSecret: cfg.ReadSecret, Progress: cfg.Progress, Stats: &fleetStats, Done: cfg.Done}
	if cfg.Progress != nil {
		// Over, even on an error or a panic: the line goes.
		defer cfg.Progress(len(p.Clusters), len(p.Clusters))
	}
	b.decodeStamps() // while the clusters compile
	// Values files alike on several clusters are rendered once, unless
	// FLEETC_SHARE=off: each from its own cluster, to check the sharing.
	memo := &render.Memo{}
	if cfg.Getenv != nil && cfg.Getenv("FLEETC_SHARE") == "off" {
		memo = nil
	}
	if memo != nil {
		// Values files the memo has need not be evaluated again.
		opts.Rendered = func(c *compile.Cluster, a compile.App) bool { return memo.Serves(c, a, p.Root) }
	}
	put, flush := cc.Later()
	results, err := compile.FleetCached(p, opts, cc.lookup, func(c *compile.Cluster) (rendered, error) {
		out, err := render.Cluster(c, settings, p.Root, memo)
		if err == nil {
			put(c, out)
		}
		if err != nil || cfg.ReadSecret == nil || c.Context {
			return rendered{out: out}, err
		}
		secret, err := render.InlineSecret(c, settings, p.Root)
		return rendered{out: out, secret: secret}, err
	})
	// The cache is written while the checks run, and before Plan returns.
	defer flush()()
	if err != nil {
		return nil, err
	}
	var shared int64
	if memo != nil {
		shared = memo.Shared.Load()
	}
	b.Stats.addFleet(fleetStats, cc.describe(), shared)
	t0 := time.Now()
	pl := &Plan{OutDir: b.OutDir}
	var names []string // the selected clusters
	for _, r := range results {
		pl.Fleet = append(pl.Fleet, r.Value.out)
		if r.Context {
			continue
		}
		names = append(names, r.Cluster)
		pl.Outputs = append(pl.Outputs, r.Value.out)
		pl.Files = append(pl.Files, r.Value.out.Files...)
		if cfg.ReadSecret != nil {
			pl.Secrets = append(pl.Secrets, r.Value.secret)
		}
	}
	pl.Clusters = len(names)
	partial := len(cfg.Clusters) > 0
	if err := b.check(pl, partial); err != nil {
		return nil, err
	}
	b.Stats.add("checks", t0, "ApplicationSets and placement")
	slices.SortFunc(pl.Files, func(a, b render.File) int { return strings.Compare(a.Path, b.Path) })
	if partial {
		if pl.Placement != nil {
			// The whole fleet was placed; the selection shows its clusters.
			pl.Placement = pl.Placement.Filter(nil, names)
		}
		pl.Scope, pl.SecretScope = scopes(names)
	}
	return pl, nil
}

// scopes are the output and secrets scopes of a build of the named
// clusters. Each path is asked about once, of the one cluster that can
// own it, not of every name: the scope sees every path of the ledger.
func scopes(names []string) (out, secrets func(string) bool) {
	selected := make(map[string]bool, len(names))
	secretPaths := make(map[string]bool, len(names))
	for _, n := range names {
		selected[n], secretPaths[render.InlineSecretPath(n)] = true, true
	}
	out = func(path string) bool {
		c, ok := render.Owner(path)
		return ok && selected[c]
	}
	return out, func(path string) bool { return secretPaths[path] }
}
