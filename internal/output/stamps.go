package output

import (
	"encoding/binary"
	"errors"
	"slices"
	"time"
)

// MarshalBinary encodes the stamps compactly: a compile reads and writes
// one for every file of the fleet, tens of thousands of them.
func (s *Stamps) MarshalBinary() ([]byte, error) {
	paths := make([]string, 0, len(s.Files))
	for p := range s.Files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	b := binary.AppendVarint(nil, s.At.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(paths)))
	for _, p := range paths {
		st := s.Files[p]
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
		b = binary.AppendVarint(b, st.Size)
		b = binary.AppendVarint(b, st.ModTime)
		b = binary.AppendUvarint(b, st.Inode)
		b = binary.AppendUvarint(b, uint64(len(st.Sum)))
		b = append(b, st.Sum...)
	}
	return b, nil
}

var errStamps = errors.New("malformed stamps")

// UnmarshalBinary decodes what MarshalBinary encoded.
func (s *Stamps) UnmarshalBinary(b []byte) error {
	bad := false
	varint := func() int64 {
		v, n := binary.Varint(b)
		if n <= 0 {
			bad = true
			return 0
		}
		b = b[n:]
		return v
	}
	uvarint := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			bad = true
			return 0
		}
		b = b[n:]
		return v
	}
	str := func() string {
		n := uvarint()
		if bad || n > uint64(len(b)) {
			bad = true
			return ""
		}
		v := string(b[:n])
		b = b[n:]
		return v
	}
	at := varint()
	n := uvarint()
	if bad || n > uint64(len(b)) {
		return errStamps
	}
	files := make(map[string]Stamp, n)
	for range n {
		p := str()
		st := Stamp{Size: varint(), ModTime: varint(), Inode: uvarint(), Sum: str()}
		if bad {
			return errStamps
		}
		files[p] = st
	}
	if len(b) != 0 {
		return errStamps
	}
	s.At, s.Files = time.Unix(0, at), files
	return nil
}
