// Package build is fleetc's pipeline: it loads a platform, compiles and
// renders its clusters, runs the fleet-wide checks and hands back a Plan,
// the bytes of every file a compile owns; Write puts a Plan on disk,
// Compare sets it against an output tree, and AtRef builds the platform
// as it is at a git commit. The build cache (per-cluster results, the
// checks that passed, the stamps of the last write) lives behind it: a
// caller says what to build, never how it is cached.
//
//	Load -> (*Platform).Unchanged   the shortcut of unchanged inputs
//	     -> (*Platform).Plan        compile, render, check
//	     -> (*Platform).Write       output.Write, with the stamps kept
//	     or Compare                 compile --check, diff
package build

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/placement"
)

// Config says what to build.
type Config struct {
	// Dir is a directory inside the platform's CUE module.
	Dir string
	// Out is the output directory, absolute or relative to Cwd; empty
	// means platform.output, relative to the module root.
	Out string
	Cwd string
	// Clusters selects clusters; none means all. The others are still
	// compiled (mostly from the cache) for the fleet-wide checks.
	Clusters []string
	// Overlay holds an editor's unsaved buffers by absolute path.
	Overlay map[string][]byte
	// ReadSecret, when set, reads each selected cluster's credentials so
	// that the plan holds its inline cluster Secret (Plan.Secrets).
	ReadSecret compile.SecretReader
	// Placement says that the caller reads Plan.Placement: it is then
	// computed even when the cache knows these inputs pass the checks.
	Placement bool
	// Getenv reads the environment, for where the build cache is; nil
	// means no cache.
	Getenv func(string) string
	// Progress, when set, is told how many clusters of how many are done;
	// done == total once the compile step is over, even when it failed.
	Progress func(done, total int)
	// Done, when closed, cancels Plan (an editor's newer edit made it
	// stale): Plan then returns context.Canceled.
	Done <-chan struct{}
}

// Platform is a platform read from disk, with its settings, where its
// output goes and its cluster cache, before any cluster is compiled.
type Platform struct {
	cfg Config
	// Sources are the platform's files as load read them.
	Sources  *load.Platform
	Settings *compile.Settings
	// OutDir is the absolute output directory.
	OutDir string
	// Stats are the phases run so far, for --stats.
	Stats Stats

	cc *Cache
	// last is the output entry of the last compile into OutDir.
	last lastWrite

	// What Catalog read, once.
	catRead bool
	cat     *compile.Catalog
	hwSets  []placement.Set
	hwDiags diag.List
	catErr  error
	// The hand-written sets as cache keys hold them (handwrittenKey).
	hwKey    []byte
	hwKeyBad bool
}

// Load reads the platform cfg names, its settings and where its output
// goes, and opens its cluster cache.
func Load(cfg Config) (*Platform, error) {
	t0 := time.Now()
	p, err := load.Load(load.Config{Dir: cfg.Dir, Overlay: cfg.Overlay})
	if err != nil {
		return nil, err
	}
	settings, err := compile.ReadSettings(p)
	if err != nil {
		return nil, err
	}
	b := New(cfg, p, settings)
	b.Stats.start = t0 // the build began with the load
	b.Stats.add("load", t0, fmt.Sprintf("%d cluster files, the shared package and its settings", len(p.Clusters)))
	return b, nil
}

// New is Load for a platform already loaded with its settings (an editor
// keeps them between edits).
func New(cfg Config, p *load.Platform, settings *compile.Settings) *Platform {
	b := &Platform{cfg: cfg, Sources: p, Settings: settings, OutDir: filepath.Join(p.Root, settings.Output), Stats: Stats{start: time.Now()}}
	if cfg.Out != "" {
		b.OutDir = cfg.Out
		if !filepath.IsAbs(b.OutDir) {
			b.OutDir = filepath.Join(cfg.Cwd, b.OutDir)
		}
	}
	b.cc = OpenCache(cfg, p)
	return b
}

// OutProblem says why fleetc cannot own the output directory Config.Out
// names, if it cannot (see load.Platform.OutputProblem); the directory
// platform.output names is checked where the settings are read.
func (b *Platform) OutProblem() string {
	if b.cfg.Out == "" {
		return ""
	}
	return b.Sources.OutputProblem(b.OutDir, b.Settings.ApplicationSets.Handwritten)
}

// ClusterNames is the names of the platform's clusters.
func (b *Platform) ClusterNames() []string {
	names := make([]string, 0, len(b.Sources.Clusters))
	for _, c := range b.Sources.Clusters {
		names = append(names, c.Name)
	}
	return names
}

// Catalog returns the platform's catalog and its hand-written
// ApplicationSets with what is wrong with them, read once: the shortcut
// of unchanged inputs and the checks both need them.
func (b *Platform) Catalog() (*compile.Catalog, []placement.Set, diag.List, error) {
	if !b.catRead {
		b.catRead = true
		b.cat, b.catErr = compile.ReadCatalog(b.Sources)
		if b.catErr == nil {
			b.hwSets, b.hwDiags, b.catErr = placement.ReadHandwritten(b.Sources.Root, b.cat.ApplicationSets.Handwritten)
		}
	}
	return b.cat, b.hwSets, b.hwDiags, b.catErr
}
