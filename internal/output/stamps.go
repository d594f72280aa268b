package output

import (
	"encoding/binary"
	"errors"
	"slices"
	"time"

	"github.com/fleetc/fleetc/internal/wire"
)

// MarshalBinary encodes the stamps compactly (package wire): a compile
// reads and writes one for every file of the fleet, tens of thousands of
// them.
func (s *Stamps) MarshalBinary() ([]byte, error) {
	paths := make([]string, 0, len(s.Files))
	for p := range s.Files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	n := len(s.Ledger) + 2*binary.MaxVarintLen64
	for _, p := range paths {
		n += len(p) + len(s.Files[p].Sum) + 6*binary.MaxVarintLen64
	}
	b := make([]byte, 0, n)
	b = wire.AppendVarint(b, s.At.UnixNano())
	b = wire.AppendUvarint(b, uint64(len(paths)))
	for _, p := range paths {
		st := s.Files[p]
		b = wire.AppendString(b, p)
		b = wire.AppendVarint(b, st.Size)
		b = wire.AppendVarint(b, st.ModTime)
		b = wire.AppendUvarint(b, st.Inode)
		b = wire.AppendString(b, st.Sum)
	}
	return wire.AppendString(b, s.Ledger), nil
}

var errStamps = errors.New("malformed stamps")

// UnmarshalBinary decodes what MarshalBinary encoded.
func (s *Stamps) UnmarshalBinary(b []byte) error {
	r := wire.NewReader(b)
	at := r.Varint()
	n := r.Count()
	files := make(map[string]Stamp, n)
	for range n {
		p := r.String()
		files[p] = Stamp{Size: r.Varint(), ModTime: r.Varint(), Inode: r.Uvarint(), Sum: r.String()}
		if !r.OK() {
			return errStamps
		}
	}
	ledger := r.String()
	if !r.Done() {
		return errStamps
	}
	s.At, s.Files, s.Ledger = time.Unix(0, at), files, ledger
	return nil
}
