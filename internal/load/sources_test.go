package load

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutputProblem: which directories a platform's output may be, as
// --out (absolute) and as platform.output (relative to the module root).
func TestOutputProblem(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"cue.mod", "clusters", "defs", "argocd/handwritten", ".git", "elsewhere"} {
		if err := os.MkdirAll(filepath.Join(root, "plat", d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	plat := filepath.Join(root, "plat")
	if err := os.Symlink(".", filepath.Join(plat, "self")); err != nil {
		t.Skip(err)
	}
	if err := os.Symlink("..", filepath.Join(plat, "up")); err != nil {
		t.Fatal(err)
	}
	p := &Platform{Root: plat}
	for _, tc := range []struct {
		out, want string // want: a part of the problem, "" for none
	}{
		{"deploy", ""},
		{"build/deploy", ""},
		{"elsewhere", ""},
		{"argocd/generated", ""},
		{"", "is empty"},
		{"/abs", "is absolute"},
		{"../x", `"../x" is outside the module`},
		{"defs/../../x", "is outside the module"},
		{"up/x", "is outside the module (it leads to " + filepath.Join(root, "x") + ")"},
		{".", "cannot be the module root"},
		{"defs/..", "cannot be the module root"},
		{"self", "cannot be the module root, which holds the platform's sources (it leads to " + plat + ")"},
		{"clusters", "cannot be clusters"},
		{"cue.mod", "cannot be cue.mod"},
		{"cue.mod/gen", "cannot be inside cue.mod"},
		{"argocd", "cannot hold argocd/handwritten"},
		{"argocd/handwritten", "cannot be argocd/handwritten"},
		{"argocd/handwritten/x", "cannot be inside argocd/handwritten"},
		{".git", "cannot be inside a .git directory"},
		{".git/deploy", "cannot be inside a .git directory"},
	} {
		got := p.SettingProblem(tc.out, "argocd/handwritten")
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("SettingProblem(%q) = %q, want %q", tc.out, got, tc.want)
		}
	}
	for _, tc := range []struct {
		dir, want string
	}{
		{filepath.Join(root, "deploy"), ""},
		{filepath.Join(plat, "deploy"), ""},
		{"/", "cannot be the file system's root"},
		{root, "cannot hold the platform's module " + plat},
		{plat, "cannot be the module root"},
		{filepath.Join(plat, "self", "clusters"), "cannot be clusters, which holds the platform's sources (it leads to " + filepath.Join(plat, "clusters") + ")"},
	} {
		got := p.OutputProblem(tc.dir, "argocd/handwritten")
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("OutputProblem(%q) = %q, want %q", tc.dir, got, tc.want)
		}
	}
}
