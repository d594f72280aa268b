package output

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fleetc/fleetc/internal/render"
)

// TestWarm: looking at the tree on every core before inspecting it (warm)
// changes nothing Write decides. The same tree of 600 planned files (the
// same bytes, other bytes of the same size, another size, none, a foreign
// file, a directory where a file goes, a file where a directory goes, a
// symlinked directory) is written with warm split over goroutines and
// with warm on one, and the results, errors and trees must be the same.
func TestWarm(t *testing.T) {
	const n = 600
	if n < warmChunk {
		t.Fatalf("%d files are too few for warm to split (warmChunk %d)", n, warmChunk)
	}
	plan := func() []render.File {
		var fl []render.File
		for i := range n {
			fl = append(fl, render.File{Path: fmt.Sprintf("cluster/c%02d/cat/app%03d/values.yaml", i/100, i%100), Data: fmt.Appendf(nil, "v: %04d\n", i)})
		}
		return fl
	}
	tests := []struct {
		name   string
		change func(t *testing.T, root string)
	}{
		{"hand edits", func(t *testing.T, root string) {
			for i := 0; i < n; i += 7 {
				p := filepath.Join(root, fmt.Sprintf("cluster/c%02d/cat/app%03d/values.yaml", i/100, i%100))
				switch i % 3 {
				case 0:
					writeFile(t, p, "v: xxxx\n") // same size
				case 1:
					writeFile(t, p, "longer\n\n\n\n\n")
				case 2:
					os.Remove(p)
				}
			}
			os.RemoveAll(filepath.Join(root, "cluster/c04"))
		}},
		{"a foreign file", func(t *testing.T, root string) {
			os.Remove(filepath.Join(root, LedgerName))
			writeFile(t, filepath.Join(root, "other.txt"), "x")
		}},
		{"a directory where a file goes", func(t *testing.T, root string) {
			p := filepath.Join(root, "cluster/c01/cat/app050/values.yaml")
			os.Remove(p)
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"a file where a directory goes", func(t *testing.T, root string) {
			p := filepath.Join(root, "cluster/c02/cat/app060")
			os.RemoveAll(p)
			writeFile(t, p, "x")
		}},
		{"a symlinked directory", func(t *testing.T, root string) {
			p := filepath.Join(root, "cluster/c03")
			if err := os.Rename(p, p+"-real"); err != nil {
				t.Fatal(err)
			}
			symlink(t, "c03-real", p)
		}},
	}
	run := func(t *testing.T, split bool, change func(*testing.T, string)) (Result, string, map[string]string) {
		root := t.TempDir()
		mustWrite(t, root, Plan{Files: plan()})
		change(t, root)
		saved := warmChunk
		if !split {
			warmChunk = 1 << 30
		}
		defer func() { warmChunk = saved }()
		res, err := Write(root, Plan{Files: plan()})
		res.Stamps = nil
		msg := ""
		if err != nil {
			msg = strings.ReplaceAll(err.Error(), root, "ROOT")
		}
		got := map[string]string{}
		for p, c := range tree(t, root) {
			got[p] = c
		}
		delete(got, LedgerName)
		return res, msg, got
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res1, err1, tree1 := run(t, true, tt.change)
			res2, err2, tree2 := run(t, false, tt.change)
			if err1 != err2 {
				t.Errorf("error with warm split:\n%s\non one goroutine:\n%s", err1, err2)
			}
			if !reflect.DeepEqual(res1, res2) {
				t.Errorf("with warm split: %d written, %d unchanged, %d removed; on one goroutine: %d, %d, %d", len(res1.Written), len(res1.Unchanged), len(res1.Removed), len(res2.Written), len(res2.Unchanged), len(res2.Removed))
			}
			if !reflect.DeepEqual(tree1, tree2) {
				t.Errorf("trees differ: %d entries with warm split, %d on one goroutine", len(tree1), len(tree2))
			}
			if err1 != "" {
				return
			}
			// What both must be: every planned file holds its bytes, and
			// only the files that did not were written.
			for _, f := range plan() {
				if tree1[f.Path] != string(f.Data) {
					t.Fatalf("%s holds %q after the Write, not %q", f.Path, tree1[f.Path], f.Data)
				}
			}
			if tt.name == "hand edits" {
				edited := 100 // cluster c04
				for i := 0; i < n; i += 7 {
					if i/100 != 4 {
						edited++
					}
				}
				if len(res1.Written) != edited || len(res1.Unchanged) != n-edited {
					t.Errorf("%d written and %d unchanged, want %d and %d", len(res1.Written), len(res1.Unchanged), edited, n-edited)
				}
			}
			if err1 == "" && len(res1.Unchanged) == 0 {
				t.Errorf("nothing unchanged: the test tests nothing")
			}
		})
	}
}
