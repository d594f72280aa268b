package render

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"

	"cuelang.org/go/cue"
	"go.yaml.in/yaml/v3"

	"github.com/fleetc/fleetc/internal/compile"
	creds "github.com/fleetc/fleetc/internal/credentials"
)

// YAML encodes a concrete CUE value as a YAML document: fields in CUE
// order, 2-space indentation, strings quoted wherever YAML would read them
// as something else, header as a leading comment. A credential anywhere in
// it, as a key or a value (creds.Check), is a *compile.LeakError:
// what fleetc writes is committed to git.
func YAML(v cue.Value, header string) ([]byte, error) {
	n, err := node(v, "")
	if err != nil {
		return nil, err
	}
	return Encode(n, header)
}

// Encode writes n as one YAML document with header as a leading comment.
// Bytes of header that are not UTF-8 are written as U+FFFD: yaml.v3 panics
// on them, and a comment only informs.
func Encode(n *yaml.Node, header string) ([]byte, error) {
	header = strings.ToValidUTF8(header, "\uFFFD")
	var buf bytes.Buffer
	if emit(&buf, n, header) {
		return buf.Bytes(), nil
	}
	return encodeYAML(&buf, n, header)
}

// encodeYAML is Encode through yaml.v3's encoder.
func encodeYAML(buf *bytes.Buffer, n *yaml.Node, header string) ([]byte, error) {
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{n}, HeadComment: header}
	if err := encodeTo(buf, doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeTo appends v to buf as yaml.v3's encoder writes it, indented by 2.
func encodeTo(buf *bytes.Buffer, v any) error {
	enc := yaml.NewEncoder(buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return err
	}
	return enc.Close()
}

// node walks v, the value of the field named field ("" in a list or at the
// top), into a YAML node without going through Go maps, which would lose
// CUE's field order.
func node(v cue.Value, field string) (*yaml.Node, error) {
	switch k := v.IncompleteKind(); k {
	case cue.StructKind:
		iter, err := v.Fields()
		if err != nil {
			return nil, err
		}
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for iter.Next() {
			name := iter.Selector().Unquoted()
			if f, ok := creds.Find(name); ok {
				return nil, &compile.LeakError{Pos: iter.Value().Pos(), Path: iter.Value().Path(), Value: name, Key: true, Finding: f}
			}
			val, err := node(iter.Value(), name)
			if err != nil {
				return nil, err
			}
			key := keyNode(name)
			m.Content = append(m.Content, key, val)
		}
		if len(m.Content) == 0 {
			m.Style = yaml.FlowStyle
		}
		return m, nil
	case cue.ListKind:
		iter, err := v.List()
		if err != nil {
			return nil, err
		}
		s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for iter.Next() {
			val, err := node(iter.Value(), field)
			if err != nil {
				return nil, err
			}
			s.Content = append(s.Content, val)
		}
		if len(s.Content) == 0 {
			s.Style = yaml.FlowStyle
		}
		return s, nil
	case cue.StringKind:
		s, err := v.String()
		if err != nil {
			return nil, err
		}
		if f, ok := creds.Check(s, field); ok {
			return nil, &compile.LeakError{Pos: v.Pos(), Path: v.Path(), Value: s, Finding: f}
		}
		return str(s), nil
	case cue.BytesKind:
		b, err := v.Bytes()
		if err != nil {
			return nil, err
		}
		if f, ok := creds.Find(string(b)); ok {
			return nil, &compile.LeakError{Pos: v.Pos(), Path: v.Path(), Value: string(b), Finding: f}
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!binary", Value: base64.StdEncoding.EncodeToString(b)}, nil
	case cue.BoolKind:
		b, err := v.Bool()
		if err != nil {
			return nil, err
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(b)}, nil
	case cue.IntKind, cue.FloatKind, cue.NumberKind:
		// JSON's number syntax is valid YAML and exact for CUE's decimals.
		b, err := v.MarshalJSON()
		if err != nil {
			return nil, err
		}
		if field != "" && creds.IsPasswordName(field) {
			f := creds.Finding{What: "a field named " + field + " holds a number", Parts: []string{string(b)}, Named: true}
			return nil, &compile.LeakError{Pos: v.Pos(), Path: v.Path(), Value: string(b), Finding: f}
		}
		tag := "!!float"
		if k == cue.IntKind {
			tag = "!!int"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(b)}, nil
	case cue.NullKind:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	default:
		if err := v.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s: cannot encode %v as YAML", v.Path(), k)
	}
}

// str is a string scalar; multi-line strings become literal blocks so
// embedded files (dashboards, configs) stay readable.
func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if yaml11Scalar(s) {
		n.Style = yaml.DoubleQuotedStyle
	}
	if strings.Contains(s, "\n") {
		// The encoder would pick a literal block for any multi-line
		// string, even one that does not read back the same.
		n.Style = yaml.DoubleQuotedStyle
		if literalSafe(s) {
			n.Style = yaml.LiteralStyle
		}
	}
	return n
}

// keyNode is a mapping key. A key with a line break is double-quoted: as
// a literal block it would need YAML's complex-key syntax, and a tab in
// it would not read back.
func keyNode(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if strings.Contains(s, "\n") || yaml11Scalar(s) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// literalSafe reports whether s reads back the same from a literal block:
// no tabs (a tab where indentation is expected is an error) and no line
// that starts or ends with a space, which a block would need an
// indentation indicator or would strip. Other multi-line strings are
// double-quoted.
func literalSafe(s string) bool {
	if strings.ContainsAny(s, "\t\r") {
		return false
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, " ") || strings.HasSuffix(line, " ") {
			return false
		}
	}
	return true
}

// yaml11Scalar reports whether plain s would be read as something other
// than a string by a YAML 1.1 reader, which Helm (sigs.k8s.io/yaml) is,
// though yaml.v3 writes it plain: the booleans yes, no, on, off, y and n,
// and sexagesimal numbers such as 1:30.
func yaml11Scalar(s string) bool {
	if isOldBool(s) {
		return true
	}
	return s != "" && (s[0] >= '0' && s[0] <= '9' || s[0] == '+' || s[0] == '-') &&
		strings.IndexByte(s, ':') >= 0 && base60.MatchString(s)
}

// base60 is YAML 1.1's sexagesimal number, as readers accept it.
var base60 = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`)
