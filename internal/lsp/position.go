package lsp

import (
	"bytes"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"unicode/utf8"

	"cuelang.org/go/cue/scanner"
	"cuelang.org/go/cue/token"
)

// CUE positions count lines and columns from 1, columns in bytes; LSP
// counts both from 0, characters in UTF-16 code units. The conversions
// need the text the position refers to.

// pathOf returns the path of a file URI; other schemes (an unsaved
// "untitled:" buffer) have none.
func pathOf(uri string) (string, bool) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "file" || u.Path == "" {
		return "", false
	}
	p := u.Path
	if runtime.GOOS == "windows" {
		// file:///C:/x names C:\x.
		p = strings.TrimPrefix(p, "/")
	}
	return filepath.Clean(filepath.FromSlash(p)), true
}

// uriOf returns the file URI of an absolute path.
func uriOf(path string) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

// line returns line n (counted from 0) of text without its line ending,
// and whether text has that line.
func line(text []byte, n int) ([]byte, bool) {
	for ; n > 0; n-- {
		i := bytes.IndexByte(text, '\n')
		if i < 0 {
			return nil, false
		}
		text = text[i+1:]
	}
	if i := bytes.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	return bytes.TrimSuffix(text, []byte("\r")), true
}

// utf16Len is the length of b in UTF-16 code units; each byte of an
// invalid sequence counts as one, as editors show U+FFFD for it.
func utf16Len(b []byte) int {
	n := 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
		b = b[size:]
	}
	return n
}

// byteOffset is the byte offset in text of an LSP position, clamped to
// the line and to the text.
func byteOffset(text []byte, p position) int {
	off := 0
	for n := p.Line; n > 0; n-- {
		i := bytes.IndexByte(text[off:], '\n')
		if i < 0 {
			return len(text)
		}
		off += i + 1
	}
	for units := 0; units < p.Character && off < len(text) && text[off] != '\n' && text[off] != '\r'; {
		r, size := utf8.DecodeRune(text[off:])
		if r >= 0x10000 {
			units += 2
		} else {
			units++
		}
		off += size
	}
	return off
}

// rangeAt is the LSP range of the token that starts at pos in text: what
// an editor underlines for a diagnostic there. A position without a line
// is the start of the file; one past the end of its line or of the text
// is an empty range there.
func rangeAt(text []byte, pos token.Position) rangeLSP {
	if pos.Line <= 0 {
		return rangeLSP{}
	}
	n := pos.Line - 1
	ln, ok := line(text, n)
	if !ok {
		p := position{Line: n}
		return rangeLSP{Start: p, End: p}
	}
	off := min(max(pos.Column-1, 0), len(ln))
	end := off + tokenLen(ln[off:])
	return rangeLSP{
		Start: position{Line: n, Character: utf16Len(ln[:off])},
		End:   position{Line: n, Character: utf16Len(ln[:end])},
	}
}

// tokenLen is the length in bytes of the CUE token at the start of src,
// cut at the end of src (one line): the value, label or keyword a
// diagnostic points at.
func tokenLen(src []byte) int {
	if len(src) == 0 {
		return 0
	}
	var s scanner.Scanner
	s.Init(token.NewFile("", -1, len(src)), src, nil, scanner.DontInsertCommas)
	pos, tok, lit := s.Scan()
	if tok == token.EOF || pos.Offset() != 0 {
		return 0
	}
	n := len(lit)
	if n == 0 {
		n = len(tok.String())
	}
	return min(n, len(src))
}
