package importer

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/render"
)

// Difference is a values file that the imported platform does not
// reproduce, and why.
type Difference struct {
	// Path is the file's path in the tree: cluster/<cluster>/<category>/<app>/values.yaml.
	Path string
	Why  string
}

func (d Difference) String() string { return d.Path + ": " + d.Why }

// Prove compiles the platform at root as it would be with imp's files
// written (an overlay: nothing is written) through the pipeline compile
// uses, renders every values file and compares each with the input as
// data. It returns every file that differs, sorted; an error means the
// platform does not compile.
func (imp *ValuesImport) Prove(root string) ([]Difference, error) {
	overlay := map[string][]byte{}
	for _, f := range imp.Files {
		overlay[f.Path] = f.Data
	}
	p, err := load.Load(load.Config{Dir: root, Overlay: overlay})
	if err != nil {
		return nil, err
	}
	// Clusters without values files compile too (they must still), but
	// only those the tree has are compared.
	type outcome struct {
		diffs []Difference
		seen  []string
	}
	results, err := compile.Fleet(p, compile.Options{}, func(c *compile.Cluster) (outcome, error) {
		var o outcome
		for _, app := range c.Apps {
			rel := render.ValuesPath(c.Name, app.Category, app.Name)
			want, ok := imp.byFile[rel]
			if !ok {
				if imp.inTree[c.Name] {
					o.diffs = append(o.diffs, Difference{rel, fmt.Sprintf("compiled, but not in the input: the cluster enables bundle %s, which deploys %s", app.Bundle, app.Name)})
				}
				continue
			}
			o.seen = append(o.seen, rel)
			data, err := render.YAML(app.Values, "")
			if err != nil {
				o.diffs = append(o.diffs, Difference{rel, fmt.Sprintf("render: %v", err)})
				continue
			}
			got, err := parse(rel, data, false)
			if err != nil {
				o.diffs = append(o.diffs, Difference{rel, fmt.Sprintf("read back: %v", err)})
				continue
			}
			if d := diffValues("", want.Root, got); d != "" {
				o.diffs = append(o.diffs, Difference{rel, d})
			}
		}
		return o, nil
	})
	if err != nil {
		return nil, err
	}
	var diffs []Difference
	seen := map[string]bool{}
	for _, r := range results {
		diffs = append(diffs, r.Value.diffs...)
		for _, s := range r.Value.seen {
			seen[s] = true
		}
	}
	for _, rel := range slices.Sorted(maps.Keys(imp.byFile)) {
		if !seen[rel] {
			diffs = append(diffs, Difference{rel, "in the input, but not compiled"})
		}
	}
	sort.Slice(diffs, func(i, j int) bool { return diffs[i].Path < diffs[j].Path })
	return diffs, nil
}

// Reproduce is how many values files the import reproduces: those of
// the tree but the unused ones.
func (imp *ValuesImport) Reproduce() int { return len(imp.byFile) }

// Summary says what the import made of the values, in one line.
func (imp *ValuesImport) Summary() string {
	newApps := 0
	for _, a := range imp.Apps {
		if a.New {
			newApps++
		}
	}
	s := imp.Stats
	parts := []string{
		fmt.Sprintf("%d apps (%d new to the catalog) on %d clusters", len(imp.Apps), newApps, imp.Clusters),
		fmt.Sprintf("%d literals", s.Literals),
		fmt.Sprintf("%d interpolations of the cluster", s.Interpolations),
		fmt.Sprintf("%d env settings", s.EnvSettings),
		fmt.Sprintf("%d per-cluster fields", s.PerCluster),
		fmt.Sprintf("%d overrides in cluster files", s.Overrides),
	}
	return strings.Join(parts, ", ")
}

// CompareTrees compares two values trees as data, key order ignored: a
// templater's output and what fleetc compiled, say. It returns every file
// that is only in one of them or differs, sorted.
func CompareTrees(want, got *ValuesTree) []Difference {
	byRel := map[string]*ValuesInput{}
	for _, f := range got.Files {
		byRel[f.Rel()] = f
	}
	var diffs []Difference
	for _, w := range want.Files {
		g, ok := byRel[w.Rel()]
		delete(byRel, w.Rel())
		if !ok {
			diffs = append(diffs, Difference{w.Rel(), "only in " + want.Shown})
			continue
		}
		if d := diffValues("", w.Root, g.Root); d != "" {
			diffs = append(diffs, Difference{w.Rel(), d})
		}
	}
	for rel := range byRel {
		diffs = append(diffs, Difference{rel, "only in " + got.Shown})
	}
	sort.Slice(diffs, func(i, j int) bool { return diffs[i].Path < diffs[j].Path })
	return diffs
}
