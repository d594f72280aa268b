package build

import (
	"fmt"
	"time"

	"github.com/fleetc/fleetc/internal/cache"
	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/fan"
	"github.com/fleetc/fleetc/internal/output"
)

// The output entry of a directory (outputEntry, in the cache) holds the
// stamps of the files the last compile into it left, so that unchanged
// files cost an lstat, and, after a compile of the whole fleet, the key of
// its inputs, for the shortcut of Unchanged.

// lastWrite is the output entry of OutDir as the build read it.
type lastWrite struct {
	read  bool
	entry outputEntry
	// raw is the entry's stamps, undecoded, until decoding decodes them
	// into stamps (in the background, while the clusters compile).
	raw      []byte
	decoding *fan.Group
	stamps   output.Stamps
}

// Display is the output directory as messages show it.
func (b *Platform) Display() string { return diag.DisplayPath(b.cfg.Cwd, b.OutDir) }

// whole reports whether the build is of the whole fleet as it is on disk,
// with the cache: the builds whose inputs a fleet key names.
func (b *Platform) whole() bool {
	c := b.cfg
	return b.cc.cache != nil && len(c.Clusters) == 0 && c.ReadSecret == nil && len(c.Overlay) == 0
}

// lastEntry reads the output entry of OutDir, once.
func (b *Platform) lastEntry() *lastWrite {
	l := &b.last
	if l.read || b.cc.cache == nil {
		return l
	}
	l.read = true
	if data, ok := b.cc.cache.Get("output", cache.PathKey(b.OutDir)); ok {
		raw, err := l.entry.decodeHead(data)
		if err != nil {
			l.entry, raw = outputEntry{}, nil
		}
		l.raw = raw
	}
	return l
}

// Unchanged is the shortcut of a compile whose inputs did not change:
// when the whole fleet's inputs are those of the last compile into the
// same directory, less than fleetTTL after the pipeline last ran for
// them, and the files are as that compile left them, there is nothing to
// evaluate, render or write. It reports whether it applied, and how many
// files the directory holds then.
func (b *Platform) Unchanged() (files int, ok bool, err error) {
	t0 := time.Now()
	if !b.whole() {
		return 0, false, nil
	}
	e := b.lastEntry().entry
	if e.Key == (cache.Key{}) || !fresh(e.Full) {
		return 0, false, nil
	}
	if hw, ok := b.handwrittenKey(); !ok || b.cc.fleetKey(b.Sources, b.OutDir, hw) != e.Key {
		return 0, false, nil
	}
	e.Stamps = b.knownStamps()
	keep, ok, err := output.Unchanged(b.OutDir, &e.Stamps, b.Display())
	if err != nil || !ok {
		return 0, false, err
	}
	if keep != &e.Stamps {
		// Files too recent for their stamps were read: stamps taken now
		// spare the next compile that.
		e.Stamps = *keep
		b.putEntry(&e)
	}
	b.cc.cache.Trim()
	n := len(e.Stamps.Files)
	b.Stats.Shortcut = true
	b.Stats.add("unchanged", t0, fmt.Sprintf("%d files as the last compile of the same inputs left them; nothing evaluated or written (%s)", n, b.cc.describe()))
	return n, true, nil
}

// fresh reports whether the full pipeline ran in full recently enough for
// the shortcut: only a full run reads the cluster entries, and an entry
// not read for days is trimmed.
func fresh(full time.Time) bool {
	age := time.Since(full)
	return age >= 0 && age <= fleetTTL
}

// decodeStamps starts decoding the stamps of the last compile into
// OutDir, tens of thousands of them, in the background, if it has not
// started yet.
func (b *Platform) decodeStamps() {
	last := b.lastEntry()
	if last.decoding != nil {
		return
	}
	last.decoding = &fan.Group{}
	raw := last.raw
	last.decoding.Go("decode the stamps of the last compile", func() {
		// None if there are none, or they do not decode: UnmarshalBinary
		// then leaves them as they are.
		_ = last.stamps.UnmarshalBinary(raw)
	})
}

// knownStamps are the stamps of the last compile into OutDir; none if
// there was none, or they do not decode (Unchanged then finds nothing
// unchanged, and Write reads every file).
func (b *Platform) knownStamps() output.Stamps {
	b.decodeStamps()
	last := b.lastEntry()
	last.decoding.Wait()
	return last.stamps
}

// Write makes the output directory hold pl (output.Write), trusting the
// stamps of the last compile into it for files that did not change, and
// records the new stamps, with the key of the inputs after a build of the
// whole fleet.
func (b *Platform) Write(pl *Plan) (output.Result, error) {
	t0 := time.Now()
	known := b.knownStamps()
	res, err := output.Write(pl.OutDir, output.Plan{Files: pl.Files, Scope: pl.Scope, Known: &known, Display: b.Display()})
	if err != nil {
		return res, err
	}
	if b.cc.cache != nil {
		e := outputEntry{Stamps: *res.Stamps}
		if b.whole() && pl.handwritten != nil {
			e.Key, e.Full = b.cc.fleetKey(b.Sources, pl.OutDir, pl.handwritten), time.Now()
		}
		b.putEntry(&e)
		b.cc.cache.Trim()
	}
	b.Stats.add("write", t0, fmt.Sprintf("%d files: %d written, %d unchanged, %d removed", len(pl.Files), len(res.Written), len(res.Unchanged), len(res.Removed)))
	return res, nil
}

// putEntry stores the output entry of OutDir; losing it only costs time.
func (b *Platform) putEntry(e *outputEntry) {
	if data, err := e.encode(); err == nil {
		b.cc.cache.Put("output", cache.PathKey(b.OutDir), data)
	}
}
