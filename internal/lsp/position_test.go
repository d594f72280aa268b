package lsp

import (
	"testing"

	"cuelang.org/go/cue/token"
)

func TestRangeAt(t *testing.T) {
	const text = "package clusters\r\n\n\tenv: \"qa\"\n\tnote: \"größe 🚀\", env: \"qa\"\n\tx: 1 +\n"
	tests := []struct {
		name       string
		line, col  int // CUE: from 1, bytes
		start, end int // LSP characters, UTF-16, on line-1
	}{
		{"string", 3, 7, 6, 10},
		{"label", 3, 2, 1, 4},
		{"after multi-byte characters", 4, 29, 24, 28},
		{"operator", 5, 7, 6, 7},
		{"on a space", 5, 6, 5, 5},
		{"past the end of the line", 5, 40, 7, 7},
		{"CRLF line", 1, 9, 8, 16},
		{"empty line", 2, 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rangeAt([]byte(text), token.Position{Line: tt.line, Column: tt.col})
			want := rangeLSP{Start: position{tt.line - 1, tt.start}, End: position{tt.line - 1, tt.end}}
			if got != want {
				t.Errorf("rangeAt(%d:%d) = %v, want %v", tt.line, tt.col, got, want)
			}
		})
	}
	if got := rangeAt([]byte(text), token.Position{}); got != (rangeLSP{}) {
		t.Errorf("no line: got %v, want the start of the file", got)
	}
	if got, want := rangeAt([]byte(text), token.Position{Line: 99, Column: 3}), (rangeLSP{Start: position{98, 0}, End: position{98, 0}}); got != want {
		t.Errorf("past the end of the text: got %v, want %v", got, want)
	}
}

func TestByteOffset(t *testing.T) {
	const text = "a🚀b\r\nü\n"
	tests := []struct {
		p    position
		want int
	}{
		{position{0, 0}, 0},
		{position{0, 1}, 1},
		{position{0, 3}, 5},
		{position{0, 4}, 6},
		{position{0, 99}, 6}, // clamped before the line ending
		{position{1, 0}, 8},
		{position{1, 1}, 10},
		{position{2, 0}, 11},
		{position{7, 0}, 11},
	}
	for _, tt := range tests {
		if got := byteOffset([]byte(text), tt.p); got != tt.want {
			t.Errorf("byteOffset(%v) = %d, want %d", tt.p, got, tt.want)
		}
	}
}

func TestURIs(t *testing.T) {
	for _, path := range []string{"/work/a b/clusters/x.cue", "/tmp/ü/#1%.cue"} {
		uri := uriOf(path)
		got, ok := pathOf(uri)
		if !ok || got != path {
			t.Errorf("pathOf(uriOf(%q) = %q) = %q, %v", path, uri, got, ok)
		}
	}
	if got := uriOf("/work/a b/x.cue"); got != "file:///work/a%20b/x.cue" {
		t.Errorf("uriOf = %q", got)
	}
	// As VS Code writes them.
	if got, _ := pathOf("file:///work/a%20b/%23x.cue"); got != "/work/a b/#x.cue" {
		t.Errorf("pathOf = %q", got)
	}
	for _, uri := range []string{"untitled:Untitled-1", "https://example.com/x.cue", "file://"} {
		if p, ok := pathOf(uri); ok {
			t.Errorf("pathOf(%q) = %q, want none", uri, p)
		}
	}
}
