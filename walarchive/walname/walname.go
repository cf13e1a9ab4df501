package walname

import (
	"errors"
	"fmt"
	"iter"
	"math/bits"

	"github.com/tenure-pg/tenure/internal/lsn"
)

// ErrInvalid: the name is not one PostgreSQL writes for an archivable file.
var ErrInvalid = errors.New("not a WAL file name")

// Size is the WAL segment size in bytes. Zero means DefaultSize.
type Size uint64

// DefaultSize is initdb's default segment size.
const DefaultSize Size = 16 << 20

// Segment size bounds, as initdb --wal-segsize accepts them (1 to 1024 MiB).
const (
	MinSize Size = 1 << 20
	MaxSize Size = 1 << 30
)

// bytesPerLog is how much WAL one "log" (the middle 8 hex digits) covers.
const bytesPerLog = 1 << 32

// orDefault resolves the zero Size.
func (z Size) orDefault() Size {
	if z == 0 {
		return DefaultSize
	}
	return z
}

// Validate reports whether z is a segment size initdb accepts (or zero).
func (z Size) Validate() error {
	z = z.orDefault()
	if z < MinSize || z > MaxSize || bits.OnesCount64(uint64(z)) != 1 {
		return fmt.Errorf("wal segment size %d: want a power of two from %d (1 MiB) to %d (1 GiB)", uint64(z), MinSize, MaxSize)
	}
	return nil
}

// segsPerLog is PostgreSQL's XLogSegmentsPerXLogId.
func (z Size) segsPerLog() uint64 { return bytesPerLog / uint64(z.orDefault()) }

// Segment identifies one WAL segment: the WAL from No*size to
// (No+1)*size-1 on Timeline.
type Segment struct {
	Timeline uint32
	No       uint64 // LSN / segment size
}

// SegmentOf returns the segment of timeline tli that holds the byte at l.
func SegmentOf(tli uint32, l lsn.LSN, size Size) Segment {
	return Segment{Timeline: tli, No: uint64(l) / uint64(size.orDefault())}
}

// Range yields, in order, the segments of timeline tli holding the bytes
// from start up to but not including end: none when end <= start. The
// half-open range matches how WAL positions are reported: a switch or
// checkpoint at end has written nothing at end itself.
func Range(tli uint32, start, end lsn.LSN, size Size) iter.Seq[Segment] {
	return func(yield func(Segment) bool) {
		if end <= start {
			return
		}
		first, last := SegmentOf(tli, start, size), SegmentOf(tli, end-1, size)
		for no := first.No; no <= last.No; no++ {
			if !yield(Segment{Timeline: tli, No: no}) {
				return
			}
		}
	}
}

// Next is the following segment on the same timeline. The last segment of
// the 64-bit WAL space has none; PostgreSQL never gets there.
func (s Segment) Next() Segment { return Segment{Timeline: s.Timeline, No: s.No + 1} }

// Start is the LSN of the segment's first byte.
func (s Segment) Start(size Size) lsn.LSN { return lsn.LSN(s.No * uint64(size.orDefault())) }

// Name formats the segment's file name, as XLogFileName does.
func (s Segment) Name(size Size) string {
	per := size.segsPerLog()
	return fmt.Sprintf("%08X%08X%08X", s.Timeline, s.No/per, s.No%per)
}

// HistoryName is the name of timeline tli's history file.
func HistoryName(tli uint32) string { return fmt.Sprintf("%08X.history", tli) }
