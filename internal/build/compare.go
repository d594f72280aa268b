package build

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/fleetc/fleetc/internal/diff"
	"github.com/fleetc/fleetc/internal/output"
	"github.com/fleetc/fleetc/internal/render"
)

// Comparison is a plan set against the output tree it would be written
// into: compile --check lists Stale, diff reports Before against the plan.
// Both read the tree the same way, so a compile followed by either finds
// nothing, whatever the cache did.
type Comparison struct {
	// Before are the files fleetc owns in the tree, in the plan's scope.
	Before []render.File
	// Fleet are the generated ApplicationSets in the tree when the plan
	// has a scope (they are out of it, but say whether a deleted
	// Application keeps its resources).
	Fleet []render.File
	// Stale lists what writing the plan would change, the ledger
	// included, by path.
	Stale []diff.Change
}

// Compare reads the output tree of pl and sets it against pl.
func (b *Platform) Compare(pl *Plan) (*Comparison, error) {
	t0 := time.Now()
	defer func() { b.Stats.add("compare", t0, "with the files on disk") }()
	ledger, err := output.ReadLedger(pl.OutDir)
	if err != nil {
		return nil, err
	}
	files, err := readListed(pl.OutDir, ledger, pl.Scope)
	if err != nil {
		return nil, err
	}
	c := &Comparison{Before: files, Stale: diff.Changes(files, pl.Files)}
	if pl.Scope != nil {
		if c.Fleet, err = readListed(pl.OutDir, ledger, render.IsAppSetPath); err != nil {
			return nil, err
		}
	}
	if !ledger.Lists(pl.Files, pl.Scope) {
		status := diff.Changed
		if _, err := os.Lstat(filepath.Join(pl.OutDir, output.LedgerName)); errors.Is(err, fs.ErrNotExist) {
			status = diff.Added
		}
		c.Stale = append(c.Stale, diff.Change{Path: output.LedgerName, Status: status})
	}
	return c, nil
}

// ReadOwned reads the files fleetc owns under outDir (in scope, if
// given): readListed of its ledger.
func ReadOwned(outDir string, scope func(string) bool) ([]render.File, error) {
	ledger, err := output.ReadLedger(outDir)
	if err != nil {
		return nil, err
	}
	return readListed(outDir, ledger, scope)
}

// readListed reads the files under outDir that ledger lists (in scope,
// if given); a listed file that is gone is left out.
func readListed(outDir string, ledger output.Ledger, scope func(string) bool) ([]render.File, error) {
	if len(ledger) == 0 {
		return nil, nil
	}
	root, err := os.OpenRoot(outDir)
	if err != nil {
		return nil, fmt.Errorf("read output: %w", err)
	}
	defer root.Close()
	var files []render.File
	for _, p := range ledger.Paths() {
		if scope != nil && !scope(p) {
			continue
		}
		data, err := root.ReadFile(filepath.FromSlash(p))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read output: %w", err)
		}
		files = append(files, render.File{Path: p, Data: data})
	}
	return files, nil
}
