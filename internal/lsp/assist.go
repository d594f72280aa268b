package lsp

import (
	"context"
	"strconv"

	"cuelang.org/go/cue/scanner"
	"cuelang.org/go/cue/token"

	"github.com/fleetc/fleetc/internal/load"
)

// Assistant answers an editor's questions about a place in a cluster
// file; fleetc's evaluates the platform's schema for them. The server
// reads the place from the buffer's text (which may not parse, as in the
// middle of a word); the assistant reads the platform.
type Assistant interface {
	// Complete lists what may be written at the place: the fields of the
	// struct there, or the values its field takes.
	Complete(ctx context.Context, q Query) ([]Completion, error)
	// Hover says what the field at the place is, in Markdown; "" for
	// nothing.
	Hover(ctx context.Context, q Query) (string, error)
}

// Query is a place in a cluster file.
type Query struct {
	// Root is the module root, File the file's absolute path and Text
	// its buffer; Overlay holds every open CUE document of the platform
	// by path, as Request.Overlay does.
	Root, File string
	Text       []byte
	Overlay    map[string][]byte
	// Cluster is the cluster the place is in, and Path the fields from
	// it to the place: the struct whose fields go there, or with Value
	// the field whose value is there. For a hover, Path is the field at
	// the place.
	Cluster string
	Path    []string
	Value   bool
}

// Completion is one thing that may be written at a place.
type Completion struct {
	// Text is what to insert, as CUE writes it: a field's name (quoted
	// if it must be) or a value ("dev", true).
	Text string
	Kind CompletionKind
	// Detail is one line (a field's type); Doc says what it is, in
	// Markdown.
	Detail, Doc string
}

// CompletionKind says what a completion is.
type CompletionKind int

// The kinds of completion, with the numbers of LSP's CompletionItemKind.
const (
	Field CompletionKind = 5  // a field of a struct
	Value CompletionKind = 12 // a value of a field
	Name  CompletionKind = 14 // a name of the platform's (bundle, label, env)
)

// place is where an offset of a file is in its structure, as its tokens
// say: the labels from the top of the file, and the word there.
type place struct {
	path  []string
	value bool
	// word is the token at the offset, and start where it starts: up to
	// the offset for completion, whole for hover.
	word  string
	start int
}

// placeAt reads the place of the byte offset off in src. For a hover
// (whole), the word is the whole token at off and a label there ends the
// path; else the word is what is typed before off, and path leads to it.
func placeAt(src []byte, off int, whole bool) place {
	var toks []scanned
	var sc scanner.Scanner
	sc.Init(token.NewFile("", -1, len(src)), src, func(token.Pos, string, []any) {}, 0)
	for {
		pos, t, lit := sc.Scan()
		if t == token.EOF {
			break
		}
		start := pos.Offset()
		end := start + len(lit)
		if lit == "" || t == token.COMMA {
			end = start + len(t.String())
			if t == token.COMMA && lit != "," {
				end = start // an inserted comma
			}
		}
		toks = append(toks, scanned{start, end, t, lit})
	}
	type frame struct {
		labels []string
		list   bool
	}
	var stack []frame
	var line []string
	afterColon := false
	var label *scanned // an identifier or string that may be a label
	out := place{start: off}
	for i, t := range toks {
		word := t.t == token.IDENT || t.t == token.STRING || t.t.IsLiteral() || t.t.IsKeyword()
		if word && t.start <= off && (off < t.end || off == t.end && !whole) {
			out.word, out.start = string(src[t.start:min(off, t.end)]), t.start
			if whole {
				out.word = string(src[t.start:t.end])
				if labelAt(toks, i) {
					line = append(line, labelText(t.t, t.lit))
					afterColon = false
				}
			}
			break
		}
		if t.start >= off && !(whole && t.start == off) {
			break
		}
		switch t.t {
		case token.IDENT, token.STRING:
			label = &toks[i]
			continue
		case token.OPTION, token.NOT:
			continue
		case token.COLON:
			if label != nil {
				line = append(line, labelText(label.t, label.lit))
			}
			afterColon = true
		case token.LBRACE, token.LBRACK:
			stack = append(stack, frame{labels: line, list: t.t == token.LBRACK})
			line, afterColon = nil, false
		case token.RBRACE, token.RBRACK:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			line, afterColon = nil, false
		case token.COMMA:
			line, afterColon = nil, false
		}
		label = nil
	}
	for _, f := range stack {
		out.path = append(out.path, f.labels...)
	}
	out.path = append(out.path, line...)
	out.value = afterColon || len(stack) > 0 && stack[len(stack)-1].list
	return out
}

// scanned is a token of a file and where it is.
type scanned struct {
	start, end int
	t          token.Token
	lit        string
}

// labelAt reports whether token i is a label: the next token, past a ?
// or !, is a colon.
func labelAt(toks []scanned, i int) bool {
	for _, t := range toks[i+1:] {
		switch t.t {
		case token.OPTION, token.NOT:
			continue
		case token.COLON:
			return true
		}
		return false
	}
	return false
}

// labelText is the name a label token spells.
func labelText(t token.Token, lit string) string {
	if t == token.STRING {
		if s, err := strconv.Unquote(lit); err == nil {
			return s
		}
	}
	return lit
}

// query reads the place at pos of a cluster file's text; ok is false
// outside a cluster.
func query(root, file string, text []byte, pos position, hover bool) (Query, place, bool) {
	pl := placeAt(text, byteOffset(text, pos), hover)
	if len(pl.path) < 2 || pl.path[0] != load.ClustersField {
		return Query{}, pl, false
	}
	return Query{Root: root, File: file, Text: text, Cluster: pl.path[1], Path: pl.path[2:], Value: pl.value}, pl, true
}

// complete answers a completion request: the assistant's completions,
// each replacing the word typed before the cursor.
func (s *server) complete(q Query, pl place, pos position) (any, error) {
	items, err := s.opts.Assist.Complete(context.Background(), q)
	if err != nil {
		return nil, err
	}
	start := position{Line: pos.Line, Character: utf16Len(lineBefore(q.Text, pl.start))}
	if pl.word == "" {
		start = pos
	}
	out := completionList{Items: []completionItem{}}
	for _, it := range items {
		ci := completionItem{Label: it.Text, Kind: int(it.Kind), Detail: it.Detail, FilterText: it.Text,
			TextEdit: &textEdit{Range: rangeLSP{Start: start, End: pos}, NewText: it.Text}}
		if it.Doc != "" {
			ci.Documentation = &markupContent{Kind: "markdown", Value: it.Doc}
		}
		out.Items = append(out.Items, ci)
	}
	return out, nil
}

// hover answers a hover request: the assistant's word on the field, over
// the token at the cursor.
func (s *server) hover(q Query, pl place, pos position) (any, error) {
	md, err := s.opts.Assist.Hover(context.Background(), q)
	if err != nil || md == "" {
		return nil, err
	}
	h := hoverResult{Contents: markupContent{Kind: "markdown", Value: md}}
	if pl.word != "" {
		before := lineBefore(q.Text, pl.start)
		start := position{Line: pos.Line, Character: utf16Len(before)}
		h.Range = &rangeLSP{Start: start, End: position{Line: pos.Line, Character: start.Character + utf16Len([]byte(pl.word))}}
	}
	return h, nil
}

// lineBefore is the part of the line of text that holds off before it.
func lineBefore(text []byte, off int) []byte {
	off = min(off, len(text))
	i := off
	for i > 0 && text[i-1] != '\n' {
		i--
	}
	return text[i:off]
}
