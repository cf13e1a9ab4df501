package restore

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/tenure-pg/tenure/internal/lsn"
	"github.com/tenure-pg/tenure/walarchive/walname"
)

// Switch is one line of a timeline history file: timeline Parent ended at
// LSN At, where its child began.
type Switch struct {
	Parent uint32
	At     lsn.LSN
}

// ParseHistory reads a timeline history file ("1\t0/3000000\treason"
// lines; '#' comments and blank lines skipped), oldest ancestor first.
func ParseHistory(b []byte) ([]Switch, error) {
	var out []Switch
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			return nil, fmt.Errorf("history line %d %q: want timeline and switch LSN", n, line)
		}
		tli, err := strconv.ParseUint(f[0], 10, 32)
		if err != nil || tli == 0 {
			return nil, fmt.Errorf("history line %d: timeline %q", n, f[0])
		}
		at, err := lsn.Parse(f[1])
		if err != nil {
			return nil, fmt.Errorf("history line %d: %w", n, err)
		}
		if k := len(out); k > 0 && (uint32(tli) <= out[k-1].Parent || at < out[k-1].At) {
			return nil, fmt.Errorf("history line %d: timelines and LSNs must increase", n)
		}
		out = append(out, Switch{Parent: uint32(tli), At: at})
	}
	return out, sc.Err()
}

// span is one timeline's part of a recovery path: WAL from Begin up to
// (not including) End; End 0 means open-ended.
type span struct {
	TLI        uint32
	Begin, End lsn.LSN
}

// path is the timelines recovery follows to reach a target timeline,
// oldest first, as PostgreSQL's expectedTLEs (in reverse).
type path []span

// pathTo builds the path to timeline tli from its history (nil for a
// timeline without ancestors).
func pathTo(tli uint32, history []Switch) path {
	var p path
	var begin lsn.LSN
	for _, s := range history {
		p = append(p, span{TLI: s.Parent, Begin: begin, End: s.At})
		begin = s.At
	}
	return append(p, span{TLI: tli, Begin: begin})
}

// contains reports whether WAL at l on timeline tli is part of p: the
// timeline is on the path and l is before it branched off.
func (p path) contains(tli uint32, l lsn.LSN) bool {
	for _, s := range p {
		if s.TLI == tli {
			return s.End == 0 || l <= s.End
		}
	}
	return false
}

// segment is the segment recovery reads for segment number no: that of
// the newest timeline on p beginning at or before it, as PostgreSQL's
// XLogFileReadAnyTLI chooses.
func (p path) segment(no uint64, size walname.Size) walname.Segment {
	for i := len(p) - 1; i >= 0; i-- {
		if walname.SegmentOf(p[i].TLI, p[i].Begin, size).No <= no {
			return walname.Segment{Timeline: p[i].TLI, No: no}
		}
	}
	return walname.Segment{Timeline: p[0].TLI, No: no}
}

// target is the last timeline of p.
func (p path) target() uint32 { return p[len(p)-1].TLI }
