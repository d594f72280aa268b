package output

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestUnchanged(t *testing.T) {
	fl := files(
		"cluster/a/core/dns/values.yaml", "a: 1\n",
		"cluster/b/core/dns/values.yaml", "b: 1\n",
		"argocd/clusters/a.yaml", "kind: ExternalSecret\n",
	)
	// setup writes the tree and returns the stamps Write gave, made old
	// enough to vouch for the files unless racy is set.
	setup := func(t *testing.T, racy bool) (string, *Stamps) {
		root := t.TempDir()
		res := mustWrite(t, root, Plan{Files: fl})
		ledger, err := os.ReadFile(filepath.Join(root, LedgerName))
		if err != nil {
			t.Fatal(err)
		}
		if res.Stamps.Ledger != sum(ledger) || len(res.Stamps.Files) != len(fl) {
			t.Fatalf("Write's stamps: ledger %q, %d files; want the ledger's checksum and %d files", res.Stamps.Ledger, len(res.Stamps.Files), len(fl))
		}
		if !racy {
			res.Stamps.At = time.Now().Add(2 * racyWindow)
		}
		return root, res.Stamps
	}
	// sameStat rewrites a file with other bytes of the same size and puts
	// its modification time back: only reading it shows the change.
	sameStat := func(t *testing.T, root, rel string) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("a: 2\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		racy   bool
		change func(t *testing.T, root string, known *Stamps)
		want   bool
	}{
		{name: "nothing", want: true},
		{name: "nothing, stamps too recent to vouch", racy: true, want: true},
		{name: "file edited", change: func(t *testing.T, root string, _ *Stamps) {
			writeFile(t, filepath.Join(root, "cluster/a/core/dns/values.yaml"), "a: 10\n")
		}},
		{name: "file edited within the racy window", racy: true, change: func(t *testing.T, root string, _ *Stamps) {
			sameStat(t, root, "cluster/a/core/dns/values.yaml")
		}},
		{name: "file removed", change: func(t *testing.T, root string, _ *Stamps) {
			os.Remove(filepath.Join(root, "argocd/clusters/a.yaml"))
		}},
		{name: "file replaced by a symlink", change: func(t *testing.T, root string, _ *Stamps) {
			p := filepath.Join(root, "argocd/clusters/a.yaml")
			os.Remove(p)
			if err := os.Symlink("../../cluster/a/core/dns/values.yaml", p); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "ledger edited", change: func(t *testing.T, root string, _ *Stamps) {
			f, err := os.OpenFile(filepath.Join(root, LedgerName), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("0000000000000000000000000000000000000000000000000000000000000000  stale.yaml\n")
			f.Close()
		}},
		{name: "unfinished run", change: func(t *testing.T, root string, _ *Stamps) {
			leaveRecord(t, root, testToken, ".")
		}},
		{name: "a stamp for a file outside the root", change: func(t *testing.T, root string, known *Stamps) {
			// A real file whose stamp matches: only the path rule
			// refuses it.
			p := filepath.Join(root, "..", "outside")
			writeFile(t, p, "x\n")
			fi, err := os.Lstat(p)
			if err != nil {
				t.Fatal(err)
			}
			known.Files["../outside"] = stampOf(fi, sum([]byte("x\n")))
		}},
		{name: "ledger replaced by a symlink to the same bytes", change: func(t *testing.T, root string, _ *Stamps) {
			l := filepath.Join(root, LedgerName)
			if err := os.Rename(l, filepath.Join(root, "ledger-copy")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("ledger-copy", l); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "a directory replaced by a symlink, stamps too recent", racy: true, change: func(t *testing.T, root string, _ *Stamps) {
			if err := os.Rename(filepath.Join(root, "argocd"), filepath.Join(root, "real")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("real", filepath.Join(root, "argocd")); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, known := setup(t, tc.racy)
			if tc.change != nil {
				tc.change(t, root, known)
			}
			before := tree(t, root)
			keep, ok, err := Unchanged(root, known, "")
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.want {
				t.Fatalf("Unchanged = %v, want %v", ok, tc.want)
			}
			checkTree(t, root, before) // Unchanged writes nothing
			switch {
			case !ok && keep != nil:
				t.Errorf("stamps returned with false")
			case ok && !tc.racy && keep != known:
				t.Errorf("stamps that vouch for every file were not kept")
			case ok && tc.racy:
				if keep == known || len(keep.Files) != len(known.Files) || keep.Ledger != known.Ledger {
					t.Fatalf("files read, but the stamps kept are %+v", keep)
				}
				// Once the new stamps are old enough, they vouch.
				keep.At = time.Now().Add(2 * racyWindow)
				if again, ok, _ := Unchanged(root, keep, ""); !ok || again != keep {
					t.Errorf("the new stamps do not vouch for the files")
				}
			}
		})
	}
}

func TestUnchangedLocked(t *testing.T) {
	root := t.TempDir()
	res := mustWrite(t, root, Plan{Files: files("x.yaml", "x\n")})
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	unlock, err := lock(r, lockName)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, ok, err := Unchanged(root, res.Stamps, "out")
	var le *LockedError
	if ok || !errors.As(err, &le) || le.Path != filepath.Join("out", lockName) {
		t.Fatalf("Unchanged with the lock held = %v, %v; want a *LockedError naming out/%s", ok, err, lockName)
	}
}

func TestUnchangedMissingRoot(t *testing.T) {
	root := t.TempDir()
	res := mustWrite(t, root, Plan{Files: files("x.yaml", "x\n")})
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := Unchanged(root, res.Stamps, ""); ok || err != nil {
		t.Fatalf("Unchanged of a removed root = %v, %v", ok, err)
	}
	if _, err := os.Lstat(root); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Unchanged created the root: %v", err)
	}
}

// BenchmarkUnchanged is the whole of a compile whose inputs did not
// change, for 10,000 files in the layout of a fleet.
func BenchmarkUnchanged(b *testing.B) {
	root := b.TempDir()
	var fl []string
	for c := range 500 {
		for a := range 20 {
			fl = append(fl, fmt.Sprintf("cluster/c%04d/monitoring/app-%02d/values.yaml", c, a), fmt.Sprintf("replicas: %d\n", a))
		}
	}
	res, err := Write(root, Plan{Files: files(fl...)})
	if err != nil {
		b.Fatal(err)
	}
	res.Stamps.At = time.Now().Add(2 * racyWindow)
	for b.Loop() {
		if _, ok, err := Unchanged(root, res.Stamps, ""); !ok || err != nil {
			b.Fatalf("Unchanged = %v, %v", ok, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(len(fl)/2), "µs/file")
}

// The ledger read before the lock is used only if the ledger has the same
// bytes once the lock is held.
func TestReadLedgerEarly(t *testing.T) {
	root := t.TempDir()
	res := mustWrite(t, root, Plan{Files: files("a.yaml", "a\n", "b.yaml", "b\n")})
	early := readEarly(root, res.Stamps)()
	if early.l == nil || len(early.l) != 2 {
		t.Fatalf("readEarly of the ledger the stamps record = %v", early.l)
	}
	if e := readEarly(root, &Stamps{Ledger: sum([]byte("other"))})(); e.l != nil {
		t.Errorf("readEarly took a ledger the stamps do not record")
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w := &writer{root: root, display: root, r: r}
	err = w.readLedger(early)
	if l := w.old; err != nil || reflect.ValueOf(l).Pointer() != reflect.ValueOf(early.l).Pointer() {
		t.Errorf("readLedger did not take the early ledger of the same bytes (%v)", err)
	}
	// Another Write changes the ledger in between.
	mustWrite(t, root, Plan{Files: files("a.yaml", "a\n")})
	err = w.readLedger(early)
	if l := w.old; err != nil || len(l) != 1 || l["b.yaml"] != "" {
		t.Errorf("readLedger after the ledger changed = %v, %v; want the ledger on disk, a.yaml only", l, err)
	}
}
