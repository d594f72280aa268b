package cli

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"

	"github.com/spf13/cobra"

	"github.com/fleetc/fleetc/internal/assist"
	"github.com/fleetc/fleetc/internal/build"
	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/credentials"
	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/explain"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/lsp"
	"github.com/fleetc/fleetc/internal/render"
)

func newLSPCmd(io IO) *cobra.Command {
	return &cobra.Command{
		Use:   "lsp",
		Short: "Serve fleetc's diagnostics to an editor (Language Server Protocol over stdio)",
		Long: `lsp is a language server, for an editor to start, on stdin and stdout. It
reports every problem 'fleetc vet' finds in the platform of each open CUE
file (conflicts, missing required fields, bundle rules, fleet-wide checks)
at its file, line and column, using the editor's unsaved buffers, as you
type. Run it next to the CUE language server (cue lsp), which handles
syntax, navigation and formatting.

See the README for setting it up in VS Code and Neovim.`,
		Example: `  # Neovim (0.8 or later): start it for CUE buffers
  vim.lsp.start({name = "fleetc", cmd = {"fleetc", "lsp"},
                 root_dir = vim.fs.dirname(vim.fs.find({"cue.mod"}, {upward = true})[1])})

  # Try it by hand: it waits for an LSP client on stdin
  fleetc lsp`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			if io.Getenv("GOGC") == "" {
				// An editor's server lives for hours: it collects at 5
				// times what is live, not at the batch commands' 17.
				debug.SetGCPercent(400)
			}
			ls := newLSPSession(io.Getenv)
			err := lsp.Serve(io.Stdin, io.Stdout, lsp.Options{Check: ls.check, Assist: ls, Version: fleetcVersion()})
			if errors.Is(err, lsp.ErrNoShutdown) {
				// The protocol's exit status for an exit without
				// shutdown; nothing to say about it.
				return exitError{exitFailed}
			}
			if err != nil {
				return fmt.Errorf("lsp: %w", err)
			}
			return nil
		},
	}
}

// lspSession is the language server's checker and assistant. It keeps,
// for each platform, what stays valid between edits while the shared
// files do not change: the platform as last loaded whole (whose parsed
// cluster files the next load reuses), its settings, and an evaluator of
// its shared package (compile.Warm). So an edit of a cluster file is
// checked by parsing that file and evaluating that cluster alone, and the
// check of the whole fleet that follows parses only files that changed.
type lspSession struct {
	getenv func(string) string
	mu     sync.Mutex
	roots  map[string]*warmPlatform
}

func newLSPSession(getenv func(string) string) *lspSession {
	return &lspSession{getenv: getenv, roots: map[string]*warmPlatform{}}
}

// warmPlatform is what a session keeps of one platform.
type warmPlatform struct {
	// loading serialises loads; mu guards state, which a load replaces
	// whole, so that a check of clusters alone never waits for a load.
	loading sync.Mutex
	mu      sync.Mutex
	state   *warmState
}

// warmState is one load of a platform: valid as long as its shared
// files are as loaded.
type warmState struct {
	p        *load.Platform
	settings *compile.Settings
	digest   [sha256.Size]byte
	warm     *compile.Warm
}

func (ls *lspSession) platform(root string) *warmPlatform {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	w := ls.roots[root]
	if w == nil {
		w = &warmPlatform{}
		ls.roots[root] = w
	}
	return w
}

// load reads the platform whole, reusing the cluster files of the last
// load that did not change, and keeps its settings and evaluator when its
// shared files are those of the last load. A platform that does not load
// is an *lsp.LoadError.
func (w *warmPlatform) load(root string, overlay map[string][]byte) (*warmState, error) {
	w.loading.Lock()
	defer w.loading.Unlock()
	w.mu.Lock()
	last := w.state
	w.mu.Unlock()
	cfg := load.Config{Dir: root, Overlay: overlay}
	if last != nil {
		cfg.Reuse = last.p
	}
	p, err := load.Load(cfg)
	var dl diag.List
	if errors.As(err, &dl) {
		return nil, &lsp.LoadError{Problems: dl}
	}
	if err != nil {
		return nil, err
	}
	digest, err := p.SharedDigest()
	if err != nil {
		return nil, err
	}
	st := &warmState{p: p, digest: digest}
	if last != nil && last.digest == digest {
		st.settings, st.warm = last.settings, last.warm
	} else {
		if st.settings, err = compile.ReadSettings(p); err != nil {
			return nil, err
		}
		st.warm = compile.NewWarm(p)
		// Built now, on the side, so that the next edit finds it warm.
		go st.warm.Use(func(compile.Shared) error { return nil })
	}
	w.mu.Lock()
	w.state = st
	w.mu.Unlock()
	return st, nil
}

// current is the state of the last load if the shared files are still
// as it loaded them, else a new load.
func (w *warmPlatform) current(root string, overlay map[string][]byte) (*warmState, error) {
	w.mu.Lock()
	st := w.state
	w.mu.Unlock()
	if st != nil && !st.p.SharedChanged(overlay) {
		return st, nil
	}
	return w.load(root, overlay)
}

// check is the language server's check: exactly what vet (and compile)
// validate, on the editor's buffers; with req.Clusters, those clusters
// alone, each evaluated on its own. With the build cache (getenv says
// where), only the clusters whose inputs changed are evaluated.
func (ls *lspSession) check(ctx context.Context, req lsp.Request) error {
	w := ls.platform(req.Root)
	if len(req.Clusters) > 0 {
		if err, ok := ls.alone(w, req); ok {
			return err
		}
	}
	st, err := w.load(req.Root, req.Overlay)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	cfg := build.Config{Dir: req.Root, Cwd: req.Root, Overlay: req.Overlay, Getenv: ls.getenv, Done: ctx.Done()}
	_, err = build.New(cfg, st.p, st.settings).Plan()
	return err
}

// alone checks the clusters of req, whose files are req.Changed, each on
// its own with the warm evaluator: their own problems, none of the checks
// that span clusters. ok is false when the files need a whole load (one
// is no cluster file, or its cluster is in another file too).
func (ls *lspSession) alone(w *warmPlatform, req lsp.Request) (err error, ok bool) {
	st, err := w.current(req.Root, req.Overlay)
	if err != nil {
		return err, true
	}
	p, names, ok, err := st.p.With(req.Overlay, req.Changed)
	if !ok || err != nil {
		return err, ok
	}
	cc := build.OpenCache(build.Config{Overlay: req.Overlay, Getenv: ls.getenv}, p)
	var files []*load.ClusterFile
	for _, cf := range p.Clusters {
		if !slices.Contains(names, cf.Name) {
			continue
		}
		if len(cf.Problems) == 0 && cc.Has(cf) {
			continue // valid as it is: the cache has it
		}
		files = append(files, cf)
	}
	return st.warm.Alone(files, func(c *compile.Cluster) error {
		out, err := render.Cluster(c, st.settings, p.Root, nil)
		if err == nil {
			cc.Put(c, out)
		}
		return err
	}), true
}

// Complete lists what may be written at a place of a cluster file.
func (ls *lspSession) Complete(_ context.Context, q lsp.Query) ([]lsp.Completion, error) {
	st, err := ls.platform(q.Root).current(q.Root, q.Overlay)
	if err != nil {
		return nil, err
	}
	var out []lsp.Completion
	err = st.warm.Use(func(sh compile.Shared) error {
		for _, it := range assist.Complete(sh, q.Path, q.Value) {
			kind := lsp.Field
			switch it.Kind {
			case assist.Name:
				kind = lsp.Name
			case assist.Value:
				kind = lsp.Value
			}
			out = append(out, lsp.Completion{Text: it.Text, Kind: kind, Detail: it.Detail, Doc: it.Doc})
		}
		return nil
	})
	return out, err
}

// Hover says what the field at a place of a cluster file is, evaluating
// the cluster as the buffer has it.
func (ls *lspSession) Hover(_ context.Context, q lsp.Query) (string, error) {
	st, err := ls.platform(q.Root).current(q.Root, q.Overlay)
	if err != nil {
		return "", err
	}
	p, _, ok, err := st.p.With(q.Overlay, []string{q.File})
	var cf *load.ClusterFile
	if ok && err == nil {
		i := slices.IndexFunc(p.Clusters, func(c *load.ClusterFile) bool { return c.Path == q.File })
		cf = p.Clusters[i]
	}
	var md string
	err = st.warm.Use(func(sh compile.Shared) error {
		var c *compile.Cluster
		if cf != nil && cf.Name == q.Cluster && len(cf.Problems) == 0 {
			if c, _ = sh.Cluster(cf); c != nil && render.Leak(c) != nil {
				c = nil // what compile refuses, explain does not show
			}
		}
		md = assist.Hover(sh, c, explain.LoadPackages(sh.Value.Context(), sh.Instance), q.Root, q.Path)
		return nil
	})
	return credentials.Scrub(md), err
}

func fleetcVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
