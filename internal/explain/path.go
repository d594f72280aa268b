package explain

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
)

// Path is a path into a values file as its YAML reads: map keys joined by
// dots, list items by index. `victoria-metrics-operator.env[0].value` and
// `victoria-metrics-operator.env.0.value` are the same path; a key that
// holds a dot, a bracket or a quote is written in double quotes:
// `grafana.datasources."datasources.yaml".apiVersion`.
type Path []Elem

// Elem is one element of a Path: a map key, or a list index.
type Elem struct {
	Key   string
	Index int
	// IsIndex says the step is an index ([0]). A key that is a number
	// (`.0`) is an index on a list and a key on a map.
	IsIndex bool
}

// ParsePath parses a path as written on the command line. A leading dot,
// as yq writes paths, is allowed.
func ParsePath(s string) (Path, error) {
	in := strings.TrimPrefix(s, ".")
	if in == "" {
		return nil, fmt.Errorf("empty path: give a key of the values file, such as image.repository or env[0].value")
	}
	var p Path
	for i := 0; i < len(in); {
		// A key: quoted, or bare up to the next separator.
		switch in[i] {
		case '"':
			end := closingQuote(in, i)
			if end < 0 {
				return nil, fmt.Errorf("path %q: unterminated quote", s)
			}
			key, err := strconv.Unquote(in[i : end+1])
			if err != nil {
				return nil, fmt.Errorf("path %q: bad quoted key %s", s, in[i:end+1])
			}
			p = append(p, Elem{Key: key})
			i = end + 1
		case '.', '[', ']':
			return nil, fmt.Errorf("path %q: empty key at offset %d", s, i+1)
		default:
			end := i
			for end < len(in) && !strings.ContainsRune(".[]\"", rune(in[end])) {
				end++
			}
			p = append(p, Elem{Key: in[i:end]})
			i = end
		}
		// Any number of indices.
		for i < len(in) && in[i] == '[' {
			end := strings.IndexByte(in[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("path %q: unterminated [", s)
			}
			n, err := strconv.Atoi(in[i+1 : i+end])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("path %q: index %q is not a number of 0 or more", s, in[i+1:i+end])
			}
			p = append(p, Elem{Index: n, IsIndex: true})
			i += end + 1
		}
		if i == len(in) {
			break
		}
		if in[i] != '.' {
			return nil, fmt.Errorf("path %q: unexpected %q at offset %d", s, in[i], i+1)
		}
		i++
		if i == len(in) {
			return nil, fmt.Errorf("path %q: ends with a dot", s)
		}
	}
	return p, nil
}

// closingQuote returns the index of the quote that closes the one at
// start, or -1.
func closingQuote(s string, start int) int {
	for i := start + 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// String returns p in the form ParsePath reads, with indices in brackets.
func (p Path) String() string {
	var b strings.Builder
	for i, s := range p {
		if s.IsIndex {
			fmt.Fprintf(&b, "[%d]", s.Index)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(quoteKey(s.Key))
	}
	return b.String()
}

func quoteKey(k string) string {
	if k == "" || strings.ContainsAny(k, ".[]\"") {
		return strconv.Quote(k)
	}
	return k
}

// Lookup returns the value at p in values, the values of one app, and the
// CUE selectors that lead there. The error of a step that leads nowhere
// lists the keys or the indices there are.
func Lookup(values cue.Value, p Path) (cue.Value, []cue.Selector, error) {
	v := values
	var sels []cue.Selector
	for i, s := range p {
		at := "the values"
		if i > 0 {
			at = p[:i].String()
		}
		switch v.IncompleteKind() {
		case cue.StructKind:
			if s.IsIndex {
				return cue.Value{}, nil, fmt.Errorf("%s is a map, not a list: write %s.<key>; its keys are %s", at, at, strings.Join(Keys(v), ", "))
			}
			keys := Keys(v)
			if !slices.Contains(keys, s.Key) {
				return cue.Value{}, nil, fmt.Errorf("no key %q in %s: its keys are %s", s.Key, at, strings.Join(keys, ", "))
			}
			sel := cue.Str(s.Key)
			sels = append(sels, sel)
			v = v.LookupPath(cue.MakePath(sel))
		case cue.ListKind:
			n, err := v.Len().Int64()
			if err != nil {
				return cue.Value{}, nil, fmt.Errorf("%s: %w", at, err)
			}
			idx := s.Index
			if !s.IsIndex {
				var err error
				if idx, err = strconv.Atoi(s.Key); err != nil {
					return cue.Value{}, nil, fmt.Errorf("%s is a list, not a map: write %s[<index>] with an index from 0 to %d", at, at, n-1)
				}
			}
			if idx < 0 || int64(idx) >= n {
				return cue.Value{}, nil, fmt.Errorf("no item [%d] in %s: %s", idx, at, items(n))
			}
			sel := cue.Index(idx)
			sels = append(sels, sel)
			v = v.LookupPath(cue.MakePath(sel))
		default:
			return cue.Value{}, nil, fmt.Errorf("%s is %s, which has no %s", at, show(v), elemName(s))
		}
	}
	return v, sels, nil
}

func items(n int64) string {
	switch n {
	case 0:
		return "it is empty"
	case 1:
		return "it has one item, [0]"
	}
	return fmt.Sprintf("it has %d items, [0] to [%d]", n, n-1)
}

func elemName(s Elem) string {
	if s.IsIndex {
		return fmt.Sprintf("item [%d]", s.Index)
	}
	return fmt.Sprintf("key %q", s.Key)
}

// Keys returns the keys of the map v as its YAML has them: its regular
// fields, in order.
func Keys(v cue.Value) []string {
	iter, err := v.Fields()
	if err != nil {
		return nil
	}
	var keys []string
	for iter.Next() {
		keys = append(keys, iter.Selector().Unquoted())
	}
	return keys
}
