// Package cache is fleetc's build cache: what compiling a cluster
// produced, stored under a key that hashes everything that went into it,
// and the stamps of the files last written to each output directory. It
// lives in $FLEETC_CACHE or fleetc/ under the user's cache directory, and
// may be removed at any time: it only saves work.
package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// format changes whenever what an entry holds, or how keys are made,
// changes.
const format = "fleetc-cache-2"

// Cache is a directory of entries.
type Cache struct {
	dir string
}

// EnvVar names the cache directory; "off" turns the cache off.
const EnvVar = "FLEETC_CACHE"

// Open returns the cache that the environment names, creating its
// directory. With the cache turned off it returns nil and a reason; a
// nil *Cache stores nothing and finds nothing.
func Open(getenv func(string) string) (*Cache, string) {
	dir := getenv(EnvVar)
	switch {
	case dir == "off":
		return nil, EnvVar + "=off"
	case dir == "":
		base := userCacheDir(getenv)
		if base == "" {
			return nil, "no user cache directory ($XDG_CACHE_HOME and $HOME unset)"
		}
		dir = filepath.Join(base, "fleetc")
	case !filepath.IsAbs(dir):
		return nil, EnvVar + " is not an absolute path"
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err.Error()
	}
	return &Cache{dir: dir}, ""
}

// userCacheDir is os.UserCacheDir with the environment getenv gives.
func userCacheDir(getenv func(string) string) string {
	switch runtime.GOOS {
	case "windows":
		return getenv("LocalAppData")
	case "darwin", "ios":
		if h := getenv("HOME"); h != "" {
			return filepath.Join(h, "Library", "Caches")
		}
		return ""
	}
	if d := getenv("XDG_CACHE_HOME"); filepath.IsAbs(d) {
		return d
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache")
	}
	return ""
}

// Dir is where the cache keeps its entries.
func (c *Cache) Dir() string { return c.dir }

// Key names an entry.
type Key [sha256.Size]byte

func (k Key) String() string { return hex.EncodeToString(k[:]) }

// NewKey hashes parts, each delimited, together with the cache format
// and the identity of the running fleetc.
func NewKey(parts ...[]byte) Key {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", format, buildID())
	for _, p := range parts {
		fmt.Fprintf(h, "%d\x00", len(p))
		h.Write(p)
	}
	var k Key
	h.Sum(k[:0])
	return k
}

func (c *Cache) path(kind string, k Key) string {
	s := k.String()
	return filepath.Join(c.dir, kind, s[:2], s)
}

// Get returns the entry of kind under k, if there is a sound one: a
// damaged or unreadable entry is a miss.
func (c *Cache) Get(kind string, k Key) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	name := c.path(kind, k)
	f, err := os.Open(name)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	// One stat serves both the read and the mark of use.
	fi, err := f.Stat()
	if err != nil || fi.Size() < sha256.Size {
		return nil, false
	}
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, false
	}
	sum, payload := data[:sha256.Size], data[sha256.Size:]
	if s := sha256.Sum256(payload); !bytes.Equal(s[:], sum) {
		return nil, false
	}
	c.used(name, fi.ModTime())
	return payload, true
}

// Put stores payload as the entry of kind under k. Entries are
// written whole to a temporary file and renamed into place, so a reader
// sees an old entry, a new one, or none; concurrent fleetc processes may
// share a cache.
func (c *Cache) Put(kind string, k Key, payload []byte) error {
	if c == nil {
		return nil
	}
	sum := sha256.Sum256(payload)
	name := c.path(kind, k)
	dir := filepath.Dir(name)
	// The entry's directory is there but for the first entries of a
	// kind, and a MkdirAll each time would cost a compile thousands of
	// system calls.
	f, err := os.CreateTemp(dir, ".tmp-")
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		f, err = os.CreateTemp(dir, ".tmp-")
	}
	if err != nil {
		return err
	}
	_, err = f.Write(sum[:])
	if err == nil {
		_, err = f.Write(payload)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// Entries not used for trimAge are removed, by a trim at most once per
// trimEvery; an entry's modification time says when it was last used, to
// within usedEvery.
const (
	trimAge   = 5 * 24 * time.Hour
	trimEvery = 24 * time.Hour
	usedEvery = time.Hour
)

// used marks the entry name, last marked at mtime, as used now, unless
// that was recent: a cache read should not cost a write.
func (c *Cache) used(name string, mtime time.Time) {
	if now := time.Now(); now.Sub(mtime) > usedEvery {
		os.Chtimes(name, now, now)
	}
}

// Trim removes the entries that were not used for five days, at most
// once a day, so that the cache does not grow without bound as platforms
// change. It is best effort. It removes entries and nothing else, files
// named and placed as Put names and places them (<kind>/<2 hex>/<64 hex>),
// so that a $FLEETC_CACHE that names a directory of other files loses none
// of them.
func (c *Cache) Trim() {
	if c == nil {
		return
	}
	stamp := filepath.Join(c.dir, "trimmed")
	now := time.Now()
	if fi, err := os.Stat(stamp); err == nil && now.Sub(fi.ModTime()) < trimEvery {
		return
	}
	// Made if missing, never truncated: only its time says anything.
	if f, err := os.OpenFile(stamp, os.O_WRONLY|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	os.Chtimes(stamp, now, now)
	kinds, _ := os.ReadDir(c.dir)
	for _, kind := range kinds {
		if !kind.IsDir() {
			continue
		}
		fans, _ := os.ReadDir(filepath.Join(c.dir, kind.Name()))
		for _, fan := range fans {
			if !fan.IsDir() || len(fan.Name()) != 2 || !isHex(fan.Name()) {
				continue
			}
			dir := filepath.Join(c.dir, kind.Name(), fan.Name())
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				name := e.Name()
				if !e.Type().IsRegular() || len(name) != 2*sha256.Size || !isHex(name) || name[:2] != fan.Name() {
					continue
				}
				if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) > trimAge {
					os.Remove(filepath.Join(dir, name))
				}
			}
		}
	}
}

// isHex reports whether s is lowercase hex, as Key.String writes it.
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// PathKey is the key of something kept per directory whatever fleetc
// made it, such as the stamps of an output directory: they describe the
// disk, not what a fleetc build computes, and stay good across upgrades.
func PathKey(dir string) Key {
	return sha256.Sum256([]byte(format + "\x00path\x00" + filepath.Clean(dir)))
}

var (
	buildOnce sync.Once
	build     string
)

// buildID identifies the running fleetc: its module version when it was
// built from a clean, tagged source, else the hash of its executable, so
// that entries made by one development build are never used by another.
func buildID() string {
	buildOnce.Do(func() {
		if bi, ok := debug.ReadBuildInfo(); ok {
			v := bi.Main.Version
			clean := v != "" && v != "(devel)" && !strings.Contains(v, "+dirty")
			for _, s := range bi.Settings {
				if s.Key == "vcs.modified" && s.Value == "true" {
					clean = false
				}
			}
			if clean {
				build = "version " + v
				return
			}
		}
		build = "unknown"
		exe, err := os.Executable()
		if err != nil {
			build += " " + time.Now().String() // never matches: no cache
			return
		}
		f, err := os.Open(exe)
		if err != nil {
			build += " " + time.Now().String()
			return
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			build += " " + time.Now().String()
			return
		}
		build = "executable " + hex.EncodeToString(h.Sum(nil))
	})
	return build
}
