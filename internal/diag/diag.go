// Package diag holds fleetc's positioned diagnostics: every problem fleetc
// finds in a platform, from a syntax error to a label Kubernetes would
// reject, becomes a Diagnostic that names its file, line, column and cluster.
package diag

import (
	"cmp"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"

	"github.com/fleetc/fleetc/internal/credentials"
)

// Diagnostic is one problem in the platform.
type Diagnostic struct {
	// Pos is where the problem is; Filename is absolute, or empty when the
	// problem has no place in a file.
	Pos token.Position
	// Cluster names the cluster the problem belongs to, if any.
	Cluster string
	// Path is the CUE path of the offending value within the cluster (or
	// within the platform when Cluster is empty), if known.
	Path string
	// Message says what is wrong.
	Message string
}

// Format renders d as `file:line:col: cluster: path: message`, with the file
// relative to cwd where it lies below it.
func (d Diagnostic) Format(cwd string) string {
	var b strings.Builder
	if d.Pos.Filename != "" {
		b.WriteString(DisplayPath(cwd, d.Pos.Filename))
		if d.Pos.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", d.Pos.Line, d.Pos.Column)
		}
		b.WriteString(": ")
	}
	if d.Cluster != "" {
		b.WriteString(d.Cluster)
		b.WriteString(": ")
	}
	if d.Path != "" {
		b.WriteString(d.Path)
		b.WriteString(": ")
	}
	b.WriteString(d.Message)
	return b.String()
}

// Scrubbed is d as fleetc may show it: anything shaped like a credential
// hidden in its path and message (credentials.Scrub). Every printer of
// diagnostics shows them through it.
func (d Diagnostic) Scrubbed() Diagnostic {
	d.Path, d.Message = credentials.Scrub(d.Path), credentials.Scrub(d.Message)
	return d
}

// hideUnder hides every quoted value in msg, CUE's message about the value
// at path, when the path ends at a key named like a credential: CUE quotes
// the value it finds wrong (invalid value "…"), however it was composed.
func hideUnder(path []string, msg string) string {
	if len(path) == 0 {
		return msg
	}
	last := path[len(path)-1]
	if u, err := strconv.Unquote(last); err == nil {
		last = u
	}
	if !credentials.IsName(last) {
		return msg
	}
	return quoted.ReplaceAllString(msg, credentials.Mask)
}

// quoted matches a double-quoted string as CUE and Go print one.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// DisplayPath is name as fleetc shows it: relative to cwd where it lies
// below it, else as it is (also when either is relative or cwd is empty).
func DisplayPath(cwd, name string) string {
	if cwd == "" || !filepath.IsAbs(name) {
		return name
	}
	rel, err := filepath.Rel(cwd, name)
	if err != nil || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || rel == ".." {
		return name
	}
	return rel
}

// List is a set of diagnostics; it is an error when non-empty.
type List []Diagnostic

// Error implements error with one diagnostic per line, paths absolute.
func (l List) Error() string {
	lines := make([]string, len(l))
	for i, d := range l {
		lines[i] = d.Format("")
	}
	return strings.Join(lines, "\n")
}

// Err returns l as an error, or nil when it is empty.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Sorted returns l sorted by file, line, column, cluster, path and message,
// with exact duplicates removed.
func (l List) Sorted() List {
	out := slices.Clone(l)
	slices.SortFunc(out, compare)
	return slices.CompactFunc(out, func(a, b Diagnostic) bool { return compare(a, b) == 0 })
}

func compare(a, b Diagnostic) int {
	return cmp.Or(
		cmp.Compare(a.Pos.Filename, b.Pos.Filename),
		cmp.Compare(a.Pos.Line, b.Pos.Line),
		cmp.Compare(a.Pos.Column, b.Pos.Column),
		cmp.Compare(a.Cluster, b.Cluster),
		cmp.Compare(a.Path, b.Path),
		cmp.Compare(a.Message, b.Message),
	)
}

// Errorf returns a single diagnostic at pos.
func Errorf(pos token.Pos, cluster, format string, args ...any) Diagnostic {
	return Diagnostic{Pos: pos.Position(), Cluster: cluster, Message: fmt.Sprintf(format, args...)}
}

// FromCUE converts a CUE error, which may hold many errors, into
// diagnostics for cluster. Each error is placed at the first of its
// positions that lies in prefer (the cluster's own file), so a user sees the
// line they wrote rather than the schema line it broke; when none does, at
// fallback if that is valid, else at the value that broke a bound, else at
// the error's first position. Failed disjunctions are said once (see
// dropValueConflicts and summarizeDisjunction), and the result is never
// empty. trimPath turns the CUE path into the one shown, for example by
// dropping the `clusters.<name>.` prefix.
func FromCUE(err error, cluster, prefer string, fallback token.Pos, trimPath func([]string) string) List {
	var files []string
	if prefer != "" {
		files = []string{prefer}
	}
	return FromCUEIn(err, cluster, func([]string) []string { return files }, fallback, trimPath)
}

// FromCUEIn is FromCUE with the preferred files chosen for each error by
// its CUE path, in order: an error about one app of the catalog is best
// shown in the files that declare the app.
func FromCUEIn(err error, cluster string, preferFor func(path []string) []string, fallback token.Pos, trimPath func([]string) string) List {
	if err == nil {
		return nil
	}
	errs := dropValueConflicts(cueerrors.Errors(err))
	var out List
	for i := 0; i < len(errs); i++ {
		e := errs[i]
		prefer := preferFor(e.Path())
		d := Diagnostic{Cluster: cluster, Pos: place(e, prefer, fallback)}
		if trimPath != nil {
			d.Path = trimPath(e.Path())
		} else {
			d.Path = strings.Join(e.Path(), ".")
		}
		format, args := e.Msg()
		if format == disjunctionFormat {
			// CUE lists every alternative that failed after a summary
			// line. Say it once: the value and what it may be instead.
			group := errs[i+1:]
			n := 0
			for n < len(group) && slices.Equal(group[n].Path(), e.Path()) {
				n++
			}
			if msg, ok := summarizeDisjunction(group[:n]); ok {
				d.Message = hideUnder(e.Path(), msg)
				if n > 0 {
					d.Pos = place(group[0], prefer, fallback)
				}
				out = append(out, d)
				i += n
				continue
			}
			// Not the usual shape: show the alternatives, not the summary.
			continue
		}
		d.Message = hideUnder(e.Path(), strings.TrimSuffix(message(e, format, args), ":"))
		out = append(out, d)
	}
	if len(out) == 0 {
		// Never lose an error to the rewriting above.
		d := Diagnostic{Cluster: cluster, Message: err.Error()}
		if len(errs) > 0 {
			d.Pos = place(errs[0], preferFor(errs[0].Path()), fallback)
		}
		out = append(out, d)
	}
	return out
}

// message renders e's message without its path, which Diagnostic carries
// on its own.
func message(e cueerrors.Error, format string, args []any) string {
	text := fmt.Sprintf(format, args...)
	if text == "" || len(args) == 0 && strings.Contains(format, "%") {
		// Some errors (from cue/load, for one) keep their text out of Msg.
		text = strings.TrimPrefix(e.Error(), strings.Join(e.Path(), ".")+": ")
	}
	return text
}

// CUE's message formats that FromCUE rewrites. They are the format strings
// of cue/errors, not rendered text.
const (
	disjunctionFormat = "%d errors in empty disjunction:"
	conflictPrefix    = "conflicting values %s and %s"
)

// dropValueConflicts trims the failed disjunctions among errs. A
// disjunction at a path that also has an error of its own is dropped: it
// only repeats that error. From the others whose alternatives failed for
// different reasons, it drops the alternatives that failed only because
// they are another value. For `retention: *"30d" | #Duration`
// set to "90days", that "90days" is not "30d" is noise: the default may
// be overridden, and what is wrong is that "90days" is no #Duration.
// Disjunctions whose alternatives all are other values are left whole, for
// summarizeDisjunction to say in one line.
func dropValueConflicts(errs []cueerrors.Error) []cueerrors.Error {
	// Each failed disjunction is its summary line and the errors after it
	// at the same path.
	groupLen := func(i int) int {
		n := 0
		for i+1+n < len(errs) && slices.Equal(errs[i+1+n].Path(), errs[i].Path()) {
			n++
		}
		return n
	}
	isSummary := func(e cueerrors.Error) bool {
		format, _ := e.Msg()
		return format == disjunctionFormat
	}
	// An error of its own at a path explains a failed disjunction there
	// (CUE adds one when a value meets, say, #Env's alternatives): the
	// disjunction only repeats it, less clearly.
	direct := map[string]bool{}
	for i := 0; i < len(errs); i++ {
		if isSummary(errs[i]) {
			i += groupLen(i)
			continue
		}
		direct[strings.Join(errs[i].Path(), "\x00")] = true
	}
	out := make([]cueerrors.Error, 0, len(errs))
	for i := 0; i < len(errs); i++ {
		if !isSummary(errs[i]) {
			out = append(out, errs[i])
			continue
		}
		n := groupLen(i)
		if direct[strings.Join(errs[i].Path(), "\x00")] {
			i += n
			continue
		}
		out = append(out, errs[i])
		// A disjunction nested in an alternative (a default that is
		// itself one of several values) says its own summary line among
		// the alternatives: its failed alternatives follow it and say it
		// all.
		var group []cueerrors.Error
		conflicts := 0
		for _, a := range errs[i+1 : i+1+n] {
			if isSummary(a) {
				continue
			}
			group = append(group, a)
			if isConflict(a) {
				conflicts++
			}
		}
		for _, a := range group {
			if conflicts == 0 || conflicts == len(group) || !isConflict(a) {
				out = append(out, a)
			}
		}
		i += n
	}
	return out
}

func isConflict(e cueerrors.Error) bool {
	format, args := e.Msg()
	return strings.HasPrefix(format, conflictPrefix) && len(args) >= 2
}

// summarizeDisjunction turns the errors of each failed alternative, when
// they all say that one value conflicts with an alternative, into one line:
// `"qa" matches none of "dev" | "staging" | "prod"`.
func summarizeDisjunction(alts []cueerrors.Error) (string, bool) {
	if len(alts) == 0 {
		return "", false
	}
	counts := map[string]int{}
	var pairs [][2]string
	for _, a := range alts {
		format, args := a.Msg()
		if !strings.HasPrefix(format, conflictPrefix) || len(args) < 2 {
			return "", false
		}
		pair := [2]string{fmt.Sprint(args[0]), fmt.Sprint(args[1])}
		pairs = append(pairs, pair)
		counts[pair[0]]++
		if pair[1] != pair[0] {
			counts[pair[1]]++
		}
	}
	// The value is the side every conflict shares.
	var value string
	for v, n := range counts {
		if n == len(alts) && (value == "" || v < value) {
			value = v
		}
	}
	if value == "" {
		return "", false
	}
	var want []string
	for _, p := range pairs {
		other := p[1]
		if other == value {
			other = p[0]
		}
		if !slices.Contains(want, other) {
			want = append(want, other)
		}
	}
	slices.Sort(want)
	return fmt.Sprintf("%s matches none of %s", value, strings.Join(want, " | ")), true
}

func place(e cueerrors.Error, prefer []string, fallback token.Pos) token.Position {
	positions := cueerrors.Positions(e)
	for _, file := range prefer {
		if file == "" {
			continue
		}
		for _, p := range positions {
			if pp := p.Position(); pp.Filename == file {
				return pp
			}
		}
	}
	if len(prefer) > 0 && fallback.IsValid() {
		return fallback.Position()
	}
	// An error with a position of its own, such as a bound that a value
	// is out of, is about the constraint there; show the value that broke
	// it, which CUE lists first among the error's inputs. (A conflict has
	// no position of its own, and either side may be the one to change.)
	if in := e.InputPositions(); e.Position().IsValid() && len(in) > 0 && in[0].IsValid() {
		return in[0].Position()
	}
	if len(positions) > 0 {
		return positions[0].Position()
	}
	return token.Position{}
}
