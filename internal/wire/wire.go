// Package wire is the plain binary form of fleetc's cache records:
// integers as varints, strings and byte slices as a uvarint length and
// the bytes. A Reader remembers the first malformed read, so a decoder
// reads a whole record and checks once at the end.
package wire

import "encoding/binary"

// AppendUvarint, AppendVarint, AppendString and AppendBytes append one
// field to b.
func AppendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

func AppendVarint(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func AppendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Reader reads fields from a record.
type Reader struct {
	b   []byte
	bad bool
}

// NewReader reads the record b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Varint reads a signed varint.
func (r *Reader) Varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Bytes reads a length-prefixed byte slice; it shares the record's
// memory and cannot grow into what follows it.
func (r *Reader) Bytes() []byte {
	n := r.Uvarint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// String reads a length-prefixed string.
func (r *Reader) String() string { return string(r.Bytes()) }

// Count reads the number of items of a list or map that follows, each of
// which takes at least one byte, so a count the record cannot hold is
// malformed rather than a huge allocation.
func (r *Reader) Count() int {
	n := r.Uvarint()
	if n > uint64(len(r.b)) {
		r.bad = true
		return 0
	}
	return int(n)
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if len(r.b) == 0 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// Done reports whether every read was sound and the record is used up.
func (r *Reader) Done() bool { return !r.bad && len(r.b) == 0 }

// OK reports whether every read so far was sound.
func (r *Reader) OK() bool { return !r.bad }

// Fail marks the record malformed, for a value its reader finds wrong.
func (r *Reader) Fail() { r.bad = true }
