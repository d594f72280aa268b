package output

import (
	"encoding/binary"
	"errors"
	"io/fs"
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
	b = wire.AppendUvarint(b, stampsVersion)
	b = wire.AppendVarint(b, s.At.UnixNano())
	b = wire.AppendUvarint(b, uint64(len(paths)))
	for _, p := range paths {
		st := s.Files[p]
		b = wire.AppendString(b, p)
		b = wire.AppendVarint(b, st.Size)
		b = wire.AppendVarint(b, st.ModTime)
		b = wire.AppendUvarint(b, st.Inode)
		b = wire.AppendVarint(b, st.Ctime)
		b = wire.AppendString(b, st.Sum)
	}
	return wire.AppendString(b, s.Ledger), nil
}

var errStamps = errors.New("malformed stamps")

// stampsVersion starts the encoding: stamps of another form (before
// ctime, say) do not decode, and vouch for nothing.
const stampsVersion = 2

// UnmarshalBinary decodes what MarshalBinary encoded; on an error s is
// left as it was.
func (s *Stamps) UnmarshalBinary(b []byte) error {
	r := wire.NewReader(b)
	if r.Uvarint() != stampsVersion {
		return errStamps
	}
	at := r.Varint()
	n := r.Count()
	files := make(map[string]Stamp, n)
	for range n {
		p := r.String()
		files[p] = Stamp{Size: r.Varint(), ModTime: r.Varint(), Inode: r.Uvarint(), Ctime: r.Varint(), Sum: r.String()}
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

// Stamp is what lstat shows of a file that Write wrote or found
// unchanged, with the checksum of its bytes then: while size, modification
// time, inode and change time stay the same, so do the bytes. The change
// time is what git's index also keeps: touch can set a modification time
// back, not a change time.
type Stamp struct {
	Size    int64
	ModTime int64 // nanoseconds since the epoch
	Inode   uint64
	Ctime   int64  // nanoseconds since the epoch; 0 where not read
	Sum     string // hex SHA-256 of the content
}

// Stamps are the stamps of the files under one root, taken at At, and
// the checksum of the ledger then (hex SHA-256; empty if there was none).
type Stamps struct {
	At     time.Time
	Files  map[string]Stamp
	Ledger string
}

// racyWindow: a file modified less than this before its stamp was taken
// could be changed again within the same timestamp tick without its stamp
// showing it, so such a stamp is not trusted and the file is read.
const racyWindow = time.Second

// trusted returns the stamp of rel if it can vouch for the file's bytes.
func (s *Stamps) trusted(rel, sum string) (Stamp, bool) {
	if s == nil {
		return Stamp{}, false
	}
	st, ok := s.Files[rel]
	if !ok || st.Sum != sum || max(st.ModTime, st.Ctime) >= s.At.Add(-racyWindow).UnixNano() {
		return Stamp{}, false
	}
	return st, true
}

// stampOf returns the stamp of a file with content sum, as fi shows it.
func stampOf(fi fs.FileInfo, sum string) Stamp {
	return Stamp{Size: fi.Size(), ModTime: fi.ModTime().UnixNano(), Inode: inode(fi), Ctime: ctime(fi), Sum: sum}
}
