package compile

import (
	"fmt"
	"strings"

	"cuelang.org/go/cue"
	cueerrors "cuelang.org/go/cue/errors"

	"github.com/fleetc/fleetc/internal/diag"
)

// notAllowedFormat is CUE's message for a field that a closed struct does
// not allow (the format string of cue/errors, not rendered text).
const notAllowedFormat = "field not allowed"

// hintNotAllowed adds to each diagnostic of ds that is one of CUE's own
// "field not allowed" errors in err the nearest field that the closed
// struct declares, as the cluster files' check (notAllowed) does: a
// misspelt field of an app in the catalog says what it was meant to be.
// The struct is looked up in roots, the value that was validated and those
// that hold its parts, by the longest tail of the field's parent path that
// a root holds: CUE's path may start at a definition or a let that a root
// reaches under another name (#Apps as #catalog, the let catalog of
// #Deploy as its apps). trimPath
// is the one that made the diagnostics' paths from CUE's.
func hintNotAllowed(err error, roots []cue.Value, trimPath func([]string) string, ds diag.List) diag.List {
	if err == nil {
		return ds
	}
	for _, e := range cueerrors.Errors(err) {
		if format, _ := e.Msg(); format != notAllowedFormat {
			continue
		}
		path := e.Path()
		if len(path) < 2 {
			continue
		}
		field, parent := path[len(path)-1], path[:len(path)-1]
		near, ok := diag.Suggest(unquote(field), allowedAt(roots, parent))
		if !ok {
			continue
		}
		shown := strings.Join(path, ".")
		if trimPath != nil {
			shown = trimPath(path)
		}
		for i, d := range ds {
			if d.Path == shown && d.Message == notAllowedFormat {
				ds[i].Message += fmt.Sprintf(": did you mean %s?", near)
			}
		}
	}
	return ds
}

// allowedAt lists the fields declared by the struct at the longest tail
// of path that one of roots holds, in the first root that has one.
func allowedAt(roots []cue.Value, path []string) []string {
	for _, root := range roots {
		for k := range path {
			p := cue.ParsePath(strings.Join(path[k:], "."))
			if p.Err() != nil {
				continue
			}
			if names := declaredFields(root.LookupPath(p)); len(names) > 0 {
				return names
			}
		}
	}
	return nil
}

// declaredFields lists the regular, optional and required fields of the
// struct v in order; none if v does not exist or is no struct.
func declaredFields(v cue.Value) []string {
	if !v.Exists() {
		return nil
	}
	iter, err := v.Fields(cue.Optional(true))
	if err != nil {
		return nil
	}
	var names []string
	for iter.Next() {
		names = append(names, iter.Selector().Unquoted())
	}
	return names
}

// unquote turns a label of a CUE path (`"project-quota"`, `name`) into
// the name.
func unquote(label string) string {
	if p := cue.ParsePath(label); p.Err() == nil && len(p.Selectors()) == 1 && p.Selectors()[0].LabelType() == cue.StringLabel {
		return p.Selectors()[0].Unquoted()
	}
	return label
}
