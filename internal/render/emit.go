package render

import (
	"bytes"
	"strings"

	"go.yaml.in/yaml/v3"
)

// emit writes the document of n with header the way yaml.v3's encoder
// does (2-space indentation, sequences indented under their key), for the
// trees that make up nearly every values file: block mappings and
// sequences of one-line scalars, whose layout can be known without
// yaml.v3's event machinery. It reports false, having written nothing, for
// anything else (multi-line strings, long keys, comments), which Encode
// leaves to yaml.v3.
//
// It is a shortcut, not a second YAML writer: TestEmitMatchesYAML and
// FuzzEmit hold it to yaml.v3's bytes for every tree it accepts.
func emit(buf *bytes.Buffer, n *yaml.Node, header string) bool {
	if !plainTree(n, 0) || !plainHeader(header) {
		return false
	}
	if (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && len(n.Content) == 0 {
		return false // a flow "{}" document; rare enough for yaml.v3
	}
	if header != "" {
		buf.WriteString("# ")
		buf.WriteString(header)
		buf.WriteString("\n\n")
	}
	switch n.Kind {
	case yaml.MappingNode:
		emitMapping(buf, n, 0, false)
	case yaml.SequenceNode:
		emitSequence(buf, n, 0, false)
	default:
		buf.WriteString(scalarText(n, false))
		buf.WriteByte('\n')
	}
	return true
}

// emitMapping writes a non-empty block mapping at indent; inline means
// its first key goes on the current line, after a sequence's dash.
func emitMapping(buf *bytes.Buffer, n *yaml.Node, indent int, inline bool) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if i > 0 || !inline {
			writeIndent(buf, indent)
		}
		k, v := n.Content[i], n.Content[i+1]
		buf.WriteString(scalarText(k, true))
		buf.WriteByte(':')
		if blockValue(v) {
			t, _ := blockScalar(k, v, indent)
			buf.WriteString(t)
			continue
		}
		emitValue(buf, v, indent+2)
	}
}

// emitSequence writes a non-empty block sequence with its dashes at
// indent; inline means the first dash goes on the current line.
func emitSequence(buf *bytes.Buffer, n *yaml.Node, indent int, inline bool) {
	for i, item := range n.Content {
		if i > 0 || !inline {
			writeIndent(buf, indent)
		}
		buf.WriteByte('-')
		switch {
		case item.Kind == yaml.MappingNode && len(item.Content) > 0:
			buf.WriteByte(' ')
			emitMapping(buf, item, indent+2, true)
		case item.Kind == yaml.SequenceNode && len(item.Content) > 0:
			buf.WriteByte(' ')
			emitSequence(buf, item, indent+2, true)
		default:
			emitValue(buf, item, indent+2)
		}
	}
}

// emitValue writes what follows a key's colon or an empty item's dash:
// a scalar or an empty collection on the same line, a collection on the
// lines below at indent.
func emitValue(buf *bytes.Buffer, v *yaml.Node, indent int) {
	switch {
	case v.Kind == yaml.MappingNode && len(v.Content) == 0:
		buf.WriteString(" {}\n")
	case v.Kind == yaml.SequenceNode && len(v.Content) == 0:
		buf.WriteString(" []\n")
	case v.Kind == yaml.MappingNode:
		buf.WriteByte('\n')
		emitMapping(buf, v, indent, false)
	case v.Kind == yaml.SequenceNode:
		buf.WriteByte('\n')
		emitSequence(buf, v, indent, false)
	default:
		buf.WriteByte(' ')
		buf.WriteString(scalarText(v, false))
		buf.WriteByte('\n')
	}
}

func writeIndent(buf *bytes.Buffer, n int) {
	for range n {
		buf.WriteByte(' ')
	}
}

// scalarText is how yaml.v3 writes the scalar n, as a key or a value: for
// the strings, booleans, null and numbers that plainScalar accepts, the
// value itself or a plain word in double quotes; for others, what yaml.v3
// wrote for the same scalar alone, once per process.
func scalarText(n *yaml.Node, key bool) string {
	if key && plainKey(n) || !key && plainScalar(n) {
		if n.Tag == "!!str" && yamlWord(n.Value) {
			return `"` + n.Value + `"`
		}
		return n.Value
	}
	t, _ := otherScalar(n, key)
	return t
}

// otherScalar is yaml.v3's text of a scalar that plainScalar does not
// know, as a key or a value, or false if it is not one line (a literal
// block, a complex key) and emit must leave the document to yaml.v3.
// Values files repeat such scalars ("30d", "1h", a cron schedule) across
// every cluster, so each is encoded once and remembered.
func otherScalar(n *yaml.Node, key bool) (string, bool) {
	// Such text cannot be reused at another depth.
	if depthBound(n.Value) {
		return "", false
	}
	id := scalarID{key: key, tag: n.Tag, style: n.Style, value: n.Value}
	if t, ok := scalars.load(id); ok {
		return t, t != ""
	}
	// The scalar alone, as a key or as a sequence item: the text between
	// the indicators is what yaml.v3 writes for it anywhere in a block.
	one := &yaml.Node{Kind: n.Kind, Tag: n.Tag, Style: n.Style, Value: n.Value}
	doc := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{one}}
	prefix, suffix := "- ", "\n"
	if key {
		doc = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{one, {Kind: yaml.ScalarNode, Tag: "!!int", Value: "0"}}}
		prefix, suffix = "", ": 0\n"
	}
	text := textBetween(doc, prefix, suffix)
	if strings.Contains(text, "\n") {
		text = ""
	}
	scalars.store(id, text, 1)
	return text, text != ""
}

// scalarID is a scalar as otherScalar remembers it.
type scalarID struct {
	key   bool
	tag   string
	style yaml.Style
	value string
}

// scalars holds otherScalar's texts, "" for a scalar emit cannot write; at
// most maxScalars of them.
var scalars = remembered[scalarID, string]{max: maxScalars}

const maxScalars = 1 << 16

// blockValue reports whether emitMapping writes the scalar v, a mapping
// value, as blockScalar's text: one that plainScalar and otherScalar do
// not take (a string of several lines, or a long one).
func blockValue(v *yaml.Node) bool {
	return v.Kind == yaml.ScalarNode && !plainScalar(v) && depthBound(v.Value)
}

// blockScalar is yaml.v3's text of the scalar v as the value of the key k
// at column indent, from just after the colon to the end of its last
// line: a literal block (a config file, a template) or a quoted string
// that yaml.v3 folds to its line width, which is why the key and the
// column are part of what is remembered. yaml.v3 writes it into a
// document where the key stands at that column, followed by another key
// (so that nothing of the document's end is taken for the value's). Such
// values repeat across clusters (the registrations' config template is
// the same on every one), so each is encoded once per process, up to
// maxBlock bytes.
func blockScalar(k, v *yaml.Node, indent int) (string, bool) {
	if len(v.Value) > maxBlock || indent%2 != 0 || !bare(v) || !bare(k) || k.Kind != yaml.ScalarNode || v.Tag != "!!str" {
		return "", false
	}
	id := blockID{key: scalarID{key: true, tag: k.Tag, style: k.Style, value: k.Value}, value: scalarID{tag: v.Tag, style: v.Style, value: v.Value}, indent: indent}
	if t, ok := blocks.load(id); ok {
		return t, t != ""
	}
	text := ""
	if plainKey(k) || otherKey(k) {
		key := &yaml.Node{Kind: k.Kind, Tag: k.Tag, Style: k.Style, Value: k.Value}
		val := &yaml.Node{Kind: v.Kind, Tag: v.Tag, Style: v.Style, Value: v.Value}
		next := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "z"}
		doc := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{key, val, next, {Kind: yaml.ScalarNode, Tag: "!!int", Value: "0"}}}
		var prefix strings.Builder
		for d := indent / 2; d > 0; d-- {
			doc = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: "k"}, doc}}
		}
		for d := range indent / 2 {
			prefix.WriteString(strings.Repeat(" ", 2*d) + "k:\n")
		}
		prefix.WriteString(strings.Repeat(" ", indent) + scalarText(k, true) + ":")
		text = textBetween(doc, prefix.String(), strings.Repeat(" ", indent)+"z: 0\n")
		if !strings.HasSuffix(text, "\n") {
			text = ""
		}
	}
	blocks.store(id, text, int64(len(v.Value)+len(text)))
	return text, text != ""
}

// blockID is a mapping value as blockScalar remembers it.
type blockID struct {
	key, value scalarID
	indent     int
}

// blocks holds blockScalar's texts, "" for a value emit cannot write, up
// to maxBlockBytes of values and texts.
var blocks = remembered[blockID, string]{max: maxBlockBytes}

// maxBlock is the longest value blockScalar takes, and maxBlockBytes what
// blocks may hold.
const (
	maxBlock      = 16 << 10
	maxBlockBytes = 64 << 20
)

// plainTree reports whether every node below n, written at indent, is a
// block mapping or sequence (or an empty one in flow style), a key
// plainKey accepts or a scalar plainScalar accepts, or a mapping value
// blockScalar can write, with no comments, anchors or aliases.
func plainTree(n *yaml.Node, indent int) bool {
	if !bare(n) {
		return false
	}
	switch n.Kind {
	case yaml.MappingNode:
		if n.Tag != "!!map" && n.Tag != "" || !collectionStyle(n) || len(n.Content)%2 != 0 {
			return false
		}
		for i := 0; i < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || !bare(k) || !plainKey(k) && !otherKey(k) {
				return false
			}
			if blockValue(v) {
				if _, ok := blockScalar(k, v, indent); !ok {
					return false
				}
			} else if !plainTree(v, indent+2) {
				return false
			}
		}
		return true
	case yaml.SequenceNode:
		if n.Tag != "!!seq" && n.Tag != "" || !collectionStyle(n) {
			return false
		}
		for _, item := range n.Content {
			if !plainTree(item, indent+2) {
				return false
			}
		}
		return true
	case yaml.ScalarNode:
		if plainScalar(n) {
			return true
		}
		_, ok := otherScalar(n, false)
		return ok
	}
	return false
}

func otherKey(k *yaml.Node) bool {
	_, ok := otherScalar(k, true)
	return ok
}

// bare reports whether n has no comments and no anchor, which emit does
// not write.
func bare(n *yaml.Node) bool {
	return n.Anchor == "" && n.HeadComment == "" && n.LineComment == "" && n.FootComment == ""
}

// collectionStyle: block style, or flow style for an empty collection,
// which is how node and yaml.v3's Node.Encode leave them.
func collectionStyle(n *yaml.Node) bool {
	return n.Style == 0 || n.Style == yaml.FlowStyle && len(n.Content) == 0
}

// plainKey accepts a mapping key that yaml.v3 writes as it is: a plain
// string short enough to be a simple key.
func plainKey(k *yaml.Node) bool {
	return k.Tag == "!!str" && k.Style == 0 && len(k.Value) <= 128 && plainString(k.Value) && !yamlWord(k.Value)
}

// plainScalar accepts the scalars whose text emit knows: plain strings,
// plain words that must be quoted, and the booleans, null and decimal
// numbers that YAML reads back with the same tag.
func plainScalar(n *yaml.Node) bool {
	if n.Tag == "!!str" && n.Style == yaml.DoubleQuotedStyle {
		return plainString(n.Value) && yamlWord(n.Value)
	}
	if n.Style != 0 {
		return false
	}
	switch n.Tag {
	case "!!str":
		// yaml.v3 quotes YAML 1.2's words by itself, YAML 1.1's only if
		// asked to (as str does).
		return plainString(n.Value) && !isOldBool(n.Value)
	case "!!bool":
		return n.Value == "true" || n.Value == "false"
	case "!!null":
		return n.Value == "null"
	case "!!int":
		return decimalDigits(strings.TrimPrefix(n.Value, "-"), 18)
	case "!!float":
		whole, frac, ok := strings.Cut(strings.TrimPrefix(n.Value, "-"), ".")
		return ok && decimalDigits(whole, 15) && len(frac) > 0 && len(frac) <= 15 && strings.Trim(frac, "0123456789") == ""
	}
	return false
}

// decimalDigits: 1 to max digits, without a leading zero unless it is
// the only one: how JSON writes an integer.
func decimalDigits(s string, max int) bool {
	if s == "" || len(s) > max || len(s) > 1 && s[0] == '0' {
		return false
	}
	return strings.Trim(s, "0123456789") == ""
}

// plainString reports whether yaml.v3 writes s plain, or (for the words
// yamlWord lists) in plain double quotes: printable ASCII starting with a
// letter, underscore or slash (never a number, an indicator or a
// space), with no ": " or " #" inside and no trailing space or colon.
func plainString(s string) bool {
	if s == "" {
		return false
	}
	c := s[0]
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '/') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	last := s[len(s)-1]
	if last == ' ' || last == ':' {
		return false
	}
	return !strings.Contains(s, ": ") && !strings.Contains(s, " #")
}

// yamlWord reports whether plain s would be read as a boolean or null,
// by YAML 1.2 or by the YAML 1.1 readers Helm and much of Kubernetes use,
// so that a string has to be quoted.
func yamlWord(s string) bool {
	switch s {
	case "true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL":
		return true
	}
	return isOldBool(s)
}

// isOldBool: the YAML 1.1 booleans that YAML 1.2 reads as strings.
func isOldBool(s string) bool {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON",
		"n", "N", "no", "No", "NO", "off", "Off", "OFF":
		return true
	}
	return false
}

// plainHeader accepts a header yaml.v3 writes as "# header" and a blank
// line: one line of printable ASCII that does not start a comment itself.
func plainHeader(h string) bool {
	for i := 0; i < len(h); i++ {
		if h[i] < ' ' || h[i] > '~' {
			return false
		}
	}
	return !strings.HasPrefix(h, "#") && !strings.HasPrefix(h, " ")
}
