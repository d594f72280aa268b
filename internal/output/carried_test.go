package output

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetc/fleetc/internal/render"
)

// TestCarried: files carried over from the last Write cost a stamp check;
// their bytes are fetched only for files the stamps cannot vouch for, and
// Write changes nothing when the fetch fails or brings other bytes.
func TestCarried(t *testing.T) {
	fl := files("a/x.yaml", "x: 1\n", "b/y.yaml", "y: 1\n", "z.yaml", "z\n")
	content := map[string]string{}
	for _, f := range fl {
		content[f.Path] = string(f.Data)
	}
	for _, tc := range []struct {
		name    string
		change  func(root string)
		known   func(*Stamps) *Stamps
		fetch   func(paths []string) ([][]byte, error)
		fetched []string // paths Fetch must be asked for
		want    Result
		err     string // what the error must say; the tree is then as change left it
	}{
		{
			name:  "nothing changed",
			known: aged,
			want:  Result{Unchanged: []string{"a/x.yaml", "b/y.yaml", "z.yaml"}},
		},
		{
			name:    "edited by hand",
			change:  func(root string) { edit(t, filepath.Join(root, "a/x.yaml"), "x: 9\n", time.Now().Add(time.Minute)) },
			known:   aged,
			fetched: []string{"a/x.yaml"},
			want:    Result{Written: []string{"a/x.yaml"}, Unchanged: []string{"b/y.yaml", "z.yaml"}},
		},
		{
			name:    "removed",
			change:  func(root string) { os.Remove(filepath.Join(root, "b/y.yaml")) },
			known:   aged,
			fetched: []string{"b/y.yaml"},
			want:    Result{Written: []string{"b/y.yaml"}, Unchanged: []string{"a/x.yaml", "z.yaml"}},
		},
		{
			// Stamps taken right after the write do not vouch: every
			// carried file is fetched and compared.
			name:    "racy stamps",
			known:   func(s *Stamps) *Stamps { return s },
			fetched: []string{"a/x.yaml", "b/y.yaml", "z.yaml"},
			want:    Result{Unchanged: []string{"a/x.yaml", "b/y.yaml", "z.yaml"}},
		},
		{
			name:    "fetch fails",
			change:  func(root string) { edit(t, filepath.Join(root, "a/x.yaml"), "x: 9\n", time.Now().Add(time.Minute)) },
			known:   aged,
			fetch:   func([]string) ([][]byte, error) { return nil, errors.New("entry gone") },
			fetched: []string{"a/x.yaml"},
			err:     "entry gone",
		},
		{
			name:    "fetch brings other bytes",
			change:  func(root string) { edit(t, filepath.Join(root, "a/x.yaml"), "x: 9\n", time.Now().Add(time.Minute)) },
			known:   aged,
			fetch:   func(paths []string) ([][]byte, error) { return [][]byte{[]byte("x: 2\n")}, nil },
			fetched: []string{"a/x.yaml"},
			err:     "not those its stamp records",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			first := mustWrite(t, root, Plan{Files: fl})
			if tc.change != nil {
				tc.change(root)
			}
			before := tree(t, root)
			var asked []string
			fetch := tc.fetch
			if fetch == nil {
				fetch = func(paths []string) ([][]byte, error) {
					out := make([][]byte, len(paths))
					for i, p := range paths {
						out[i] = []byte(content[p])
					}
					return out, nil
				}
			}
			p := Plan{
				Carried: []string{"z.yaml", "a/x.yaml", "b/y.yaml"},
				Known:   tc.known(first.Stamps),
				Fetch: func(paths []string) ([][]byte, error) {
					asked = append(asked, paths...)
					return fetch(paths)
				},
			}
			res, err := Write(root, p)
			if !slices.Equal(asked, tc.fetched) {
				t.Errorf("fetched %q, want %q", asked, tc.fetched)
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one saying %q", err, tc.err)
				}
				checkTree(t, root, before)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, res, tc.want)
			checkTree(t, root, want(fl, nil))
			for _, f := range fl {
				if res.Stamps.Files[f.Path].Sum != first.Stamps.Files[f.Path].Sum {
					t.Errorf("stamp of %s records other bytes", f.Path)
				}
			}
		})
	}
}

// TestCarriedWithoutStamp: a carried file needs a stamp that says what it
// holds.
func TestCarriedWithoutStamp(t *testing.T) {
	root := t.TempDir()
	first := mustWrite(t, root, Plan{Files: files("a.yaml", "a\n")})
	_, err := Write(root, Plan{
		Files:   []render.File{{Path: "a.yaml", Data: []byte("a\n")}},
		Carried: []string{"b.yaml"},
		Known:   first.Stamps,
		Fetch:   func([]string) ([][]byte, error) { return nil, nil },
	})
	if err == nil || !strings.Contains(err.Error(), "no stamp says what it holds") {
		t.Fatalf("error %v", err)
	}
}
