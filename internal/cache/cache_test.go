package cache

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPutGet(t *testing.T) {
	c, why := Open(func(k string) string { return map[string]string{EnvVar: t.TempDir()}[k] })
	if c == nil {
		t.Fatal(why)
	}
	k := NewKey([]byte("a"))
	if _, ok := c.Get("x", k); ok {
		t.Fatal("hit in an empty cache")
	}
	want := []byte("an entry of some bytes")
	if err := c.Put("x", k, want); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Get("x", k); !ok || string(got) != string(want) {
		t.Fatalf("got %q (%v), want %q", got, ok, want)
	}
	if _, ok := c.Get("y", k); ok {
		t.Error("an entry of one kind found as another")
	}
	// Every byte of an entry is checked.
	name := c.path("x", k)
	b, _ := os.ReadFile(name)
	for i := range b {
		d := append([]byte(nil), b...)
		d[i] ^= 1
		os.WriteFile(name, d, 0o600)
		if _, ok := c.Get("x", k); ok {
			t.Fatalf("damaged byte %d not noticed", i)
		}
	}
	os.WriteFile(name, b[:len(b)/2], 0o600)
	if _, ok := c.Get("x", k); ok {
		t.Fatal("truncated entry not noticed")
	}
	// A second entry goes into the directory the first made; an entry
	// whose directory went away (a cache cleaner, say) makes it again.
	k2 := NewKey([]byte("b"))
	for _, gone := range []bool{false, true} {
		if gone {
			if err := os.RemoveAll(filepath.Dir(filepath.Dir(name))); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Put("x", k2, want); err != nil {
			t.Fatalf("directory removed %v: %v", gone, err)
		}
		if got, ok := c.Get("x", k2); !ok || string(got) != string(want) {
			t.Fatalf("directory removed %v: got %q (%v), want %q", gone, got, ok, want)
		}
	}
	var none *Cache
	if _, ok := none.Get("x", k); ok || none.Put("x", k, want) != nil {
		t.Error("a nil cache stores or finds something")
	}
}

func TestKeysDelimitParts(t *testing.T) {
	keys := map[Key]string{}
	for name, parts := range map[string][][]byte{
		"ab|c": {[]byte("ab"), []byte("c")},
		"a|bc": {[]byte("a"), []byte("bc")},
		"abc":  {[]byte("abc")},
		"abc|": {[]byte("abc"), nil},
	} {
		k := NewKey(parts...)
		if other, dup := keys[k]; dup {
			t.Errorf("%s and %s have the same key", name, other)
		}
		keys[k] = name
	}
}

func TestOpen(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the default directory is the XDG one on Linux only")
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		env     map[string]string
		wantDir string // "" for off
	}{
		{env: map[string]string{EnvVar: "off"}},
		{env: map[string]string{EnvVar: "relative/dir"}},
		{env: map[string]string{}},
		{env: map[string]string{EnvVar: filepath.Join(dir, "explicit")}, wantDir: filepath.Join(dir, "explicit")},
		{env: map[string]string{"XDG_CACHE_HOME": filepath.Join(dir, "xdg"), "HOME": dir}, wantDir: filepath.Join(dir, "xdg", "fleetc")},
		{env: map[string]string{"HOME": dir}, wantDir: filepath.Join(dir, ".cache", "fleetc")},
	} {
		c, why := Open(func(k string) string { return tc.env[k] })
		switch {
		case tc.wantDir == "" && c != nil:
			t.Errorf("%v: cache at %s, want off", tc.env, c.Dir())
		case tc.wantDir != "" && c == nil:
			t.Errorf("%v: off (%s), want %s", tc.env, why, tc.wantDir)
		case c != nil && c.Dir() != tc.wantDir:
			t.Errorf("%v: cache at %s, want %s", tc.env, c.Dir(), tc.wantDir)
		}
	}
}

// TestTrim: entries unused for longer than trimAge go, others stay, and a
// read marks an entry as used.
func TestTrim(t *testing.T) {
	c, why := Open(func(k string) string { return map[string]string{EnvVar: t.TempDir()}[k] })
	if c == nil {
		t.Fatal(why)
	}
	old, fresh, read := NewKey([]byte("old")), NewKey([]byte("fresh")), NewKey([]byte("read"))
	for _, k := range []Key{old, fresh, read} {
		if err := c.Put("x", k, []byte("data")); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-trimAge - time.Hour)
	os.Chtimes(c.path("x", old), long, long)
	os.Chtimes(c.path("x", read), long, long)
	if _, ok := c.Get("x", read); !ok {
		t.Fatal("entry not found")
	}
	c.Trim()
	for k, want := range map[Key]bool{old: false, fresh: true, read: true} {
		if _, ok := c.Get("x", k); ok != want {
			t.Errorf("entry %s present %v after trim, want %v", k, ok, want)
		}
	}
	// At most once a day.
	os.Chtimes(c.path("x", fresh), long, long)
	c.Trim()
	if _, ok := c.Get("x", fresh); !ok {
		t.Error("a second trim within a day removed an entry")
	}
}

// TestTrimOnlyEntries: a $FLEETC_CACHE that names a directory of other
// files (a home directory, a platform) loses none of them to a trim, old
// as they may be, even those placed like entries but not named like them.
func TestTrimOnlyEntries(t *testing.T) {
	dir := t.TempDir()
	long := time.Now().Add(-trimAge - time.Hour)
	k := NewKey([]byte("k")).String()
	theirs := []string{"notes.txt", "trimmed-not", "defs/platform.cue", "x/ab/notes", "x/" + k[:2] + "/" + k + ".bak", "x/zz/" + strings.Repeat("z", 64), "x/" + k[:2] + "/.tmp-123"}
	for _, p := range theirs {
		name := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte("theirs"), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(name, long, long)
	}
	if err := os.WriteFile(filepath.Join(dir, "trimmed"), []byte("theirs"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(filepath.Join(dir, "trimmed"), long, long)
	c, why := Open(func(string) string { return dir })
	if c == nil {
		t.Fatal(why)
	}
	if err := c.Put("x", NewKey([]byte("k")), []byte("data")); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(c.path("x", NewKey([]byte("k"))), long, long)
	c.Trim()
	if _, ok := c.Get("x", NewKey([]byte("k"))); ok {
		t.Error("an old entry survived the trim")
	}
	for _, p := range append(theirs, "trimmed") {
		if data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p))); err != nil || string(data) != "theirs" {
			t.Errorf("%s: %q, %v; want it untouched", p, data, err)
		}
	}
}

// BenchmarkPut stores entries the size of a cluster's, under fresh keys
// as a cold compile does.
func BenchmarkPut(b *testing.B) {
	c, why := Open(func(k string) string { return map[string]string{EnvVar: b.TempDir()}[k] })
	if c == nil {
		b.Fatal(why)
	}
	payload := make([]byte, 24<<10)
	for i := 0; b.Loop(); i++ {
		if err := c.Put("x", NewKey([]byte(strconv.Itoa(i))), payload); err != nil {
			b.Fatal(err)
		}
	}
}
