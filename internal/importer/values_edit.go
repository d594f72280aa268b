package importer

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/parser"

	"github.com/fleetc/fleetc/internal/load"
)

// removeApps takes the imported apps out of a file of the catalog's
// package: their #Catalog entries, their settings in #Cluster and their
// env settings, with the let clauses and structs that leaves unused or
// empty, so that the entries import values writes replace them rather
// than unify with them. changed is false if the file has none of them.
func removeApps(path string, src []byte, apps map[string]bool) (out []byte, changed bool, err error) {
	f, err := parser.ParseFile(path, src, parser.ParseComments)
	if err != nil {
		return nil, false, err
	}
	var keep []ast.Decl
	for _, d := range f.Decls {
		fd, ok := d.(*ast.Field)
		if !ok {
			keep = append(keep, d)
			continue
		}
		name, _, _ := ast.LabelName(fd.Label)
		s, ok := fd.Value.(*ast.StructLit)
		if !ok {
			keep = append(keep, d)
			continue
		}
		var did bool
		switch name {
		case "#Catalog":
			did = prune(s, []string{"apps"}, apps)
		case "#Cluster":
			did = prune(s, []string{settingsField}, apps)
		case "platform":
			did = prune(s, []string{"envs", "*", settingsField}, apps)
		}
		if !did {
			keep = append(keep, d)
			continue
		}
		changed = true
		pruneLets(s)
		// What is left of a block import values wrote is only the
		// declarations it needed: drop it.
		if onlyFields(s, "cluster", "env", "name") {
			continue
		}
		keep = append(keep, d)
	}
	if !changed {
		return src, false, nil
	}
	f.Decls = keep
	out, err = format.Node(f, format.Simplify())
	return out, true, err
}

// prune removes from s the fields named in names at path below it (a
// "*" segment matches every label); a struct the removal leaves empty
// goes too. It reports whether s changed.
func prune(s *ast.StructLit, path []string, names map[string]bool) bool {
	changed := false
	var keep []ast.Decl
	for _, d := range s.Elts {
		f, ok := d.(*ast.Field)
		if !ok {
			keep = append(keep, d)
			continue
		}
		name, _, err := ast.LabelName(f.Label)
		if err != nil {
			keep = append(keep, d)
			continue
		}
		if len(path) == 0 {
			if names[name] {
				changed = true
				continue
			}
			keep = append(keep, d)
			continue
		}
		inner, ok := f.Value.(*ast.StructLit)
		if !ok || (path[0] != "*" && path[0] != name) {
			keep = append(keep, d)
			continue
		}
		if prune(inner, path[1:], names) {
			changed = true
			pruneLets(inner)
			if len(inner.Elts) == 0 {
				continue
			}
		}
		keep = append(keep, d)
	}
	s.Elts = keep
	return changed
}

// onlyFields reports whether s declares nothing but fields of these
// names (and let clauses).
func onlyFields(s *ast.StructLit, names ...string) bool {
	for _, d := range s.Elts {
		switch d := d.(type) {
		case *ast.LetClause:
		case *ast.Field:
			if n, _, _ := ast.LabelName(d.Label); !slices.Contains(names, n) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// pruneLets removes the let clauses of s that nothing in s refers to
// any more: CUE refuses an unreferenced one.
func pruneLets(s *ast.StructLit) {
	for {
		used := map[string]int{}
		ast.Walk(s, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				used[id.Name]++
			}
			return true
		}, nil)
		removed := false
		var keep []ast.Decl
		for _, d := range s.Elts {
			if l, ok := d.(*ast.LetClause); ok && used[l.Ident.Name] <= 1 {
				removed = true
				continue
			}
			keep = append(keep, d)
		}
		s.Elts = keep
		if !removed {
			return
		}
	}
}

// clusterValues returns the cluster file src with its settings of the
// imported apps replaced by as, and, for --labels, its env and bundles as
// the labels say.
func clusterValues(ci *clusterInfo, src []byte, as []appAssign, apps map[string]bool) ([]byte, error) {
	f, err := parser.ParseFile(ci.file.Path, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	cf := load.Field(f.Decls, load.ClustersField, ci.name)
	if cf == nil {
		return nil, fmt.Errorf("%s: no clusters: %q", ci.file.Path, ci.name)
	}
	s, ok := cf.Value.(*ast.StructLit)
	if !ok {
		pos := cf.Pos().Position()
		return nil, fmt.Errorf("%s:%d:%d: cluster %s is not a struct literal: import values adds its settings to one", pos.Filename, pos.Line, pos.Column, ci.name)
	}
	changed := prune(s, []string{settingsField}, apps)
	var b strings.Builder
	if ci.labelsGiven {
		changed = true
		drop := map[string]bool{"env": true, "bundles": true}
		s.Elts = slices.DeleteFunc(s.Elts, func(d ast.Decl) bool {
			f, ok := d.(*ast.Field)
			if !ok {
				return false
			}
			n, _, _ := ast.LabelName(f.Label)
			return drop[n]
		})
		fmt.Fprintf(&b, "env: %s\n", strconv.Quote(ci.env))
		b.WriteString("bundles: {\n")
		for _, bn := range slicesSortedTrue(ci.bundles) {
			fmt.Fprintf(&b, "%s: true\n", label(bn))
		}
		b.WriteString("}\n")
	}
	if len(as) > 0 {
		changed = true
		b.WriteString("// Set by fleetc import values: where this cluster's values files\n// differed from the platform's defaults.\n")
		fmt.Fprintf(&b, "%s: {\n", settingsField)
		for _, a := range as {
			fmt.Fprintf(&b, "%s: {\n", label(a.app))
			for _, st := range a.settings {
				fmt.Fprintf(&b, "%s: %s\n", st.name, st.value)
			}
			b.WriteString("}\n")
		}
		b.WriteString("}\n")
	}
	if !changed {
		return src, nil
	}
	if b.Len() > 0 {
		add, err := parser.ParseExpr("generated", "{\n"+b.String()+"}", parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("%w\n%s", err, b.String())
		}
		s.Elts = append(s.Elts, add.(*ast.StructLit).Elts...)
	}
	out, err := format.Node(f, format.Simplify())
	if err != nil {
		return nil, err
	}
	// Formatting the edited tree again settles what positions taken from
	// two sources left open.
	return formatSource(string(out))
}

func slicesSortedTrue(m map[string]bool) []string {
	var out []string
	for k, on := range m {
		if on {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
