package restore

import (
	"fmt"
	"time"

	"github.com/tenure-pg/tenure/walarchive/catalog"
	"github.com/tenure-pg/tenure/walarchive/walname"
)

// walIndex is the archive's complete segments by (timeline, number).
type walIndex struct {
	size     walname.Size
	segments map[walname.Segment]time.Time
}

func indexWAL(files []WALFile, segSize uint64) walIndex {
	ix := walIndex{size: walname.Size(segSize), segments: map[walname.Segment]time.Time{}}
	for _, f := range files {
		parsed, err := walname.Parse(f.Name, ix.size)
		if err != nil {
			continue // not a WAL file: recovery will not ask for it either
		}
		if parsed.Kind == walname.KindSegment {
			ix.segments[parsed.Segment] = f.ModTime
		}
	}
	return ix
}

// planFor lists the WAL recovery from b along p needs for o.Target and
// refuses when any of it is missing. The backup holds the WAL up to its
// stop LSN; the archive must supply the rest, starting with the stop
// segment (the backup's copy of it ends at the stop LSN).
func planFor(o Observation, b catalog.Meta, p path, ix walIndex) (Plan, error) {
	if b.WALSegmentSize != uint64(ix.size) {
		return Plan{}, fmt.Errorf("backup %s: WAL segment size %d differs from the newest backup's %d", b.ID, b.WALSegmentSize, ix.size)
	}
	plan := Plan{Backup: b, Target: o.Target, Timeline: p.target()}
	for _, s := range p[1:] {
		plan.History = append(plan.History, walname.HistoryName(s.TLI))
	}
	first := walname.SegmentOf(b.StopTimeline, b.StopLSN, ix.size).No
	last, err := lastNeeded(o.Target, p, ix, first)
	if err != nil {
		return Plan{}, fmt.Errorf("backup %s: %w", b.ID, err)
	}
	for no := first; no <= last && last != noWAL; no++ {
		seg := p.segment(no, ix.size)
		if _, ok := ix.segments[seg]; !ok {
			return Plan{}, fmt.Errorf("restore from backup %s to %s: %w: WAL gap at segment %s (timeline %d); recovery cannot pass it",
				b.ID, o.Target, ErrWALMissing, seg.Name(ix.size), seg.Timeline)
		}
		plan.WAL = append(plan.WAL, seg.Name(ix.size))
	}
	plan.End = endFor(o.Target, plan.Timeline, b.StopLSN, plan.WAL, ix.size)
	plan.Reason = reason(b, o, plan)
	return plan, nil
}

// modTimeSlack widens the comparison of archive times with a target
// time: S3 reports Last-Modified to the second, so a segment stored 0.9 s
// after the target can show a time 0.1 s before it.
const modTimeSlack = time.Second

// noWAL is lastNeeded's "nothing beyond the backup".
const noWAL = ^uint64(0)

// lastNeeded is the number of the last segment recovery must read.
func lastNeeded(t Target, p path, ix walIndex, first uint64) (uint64, error) {
	switch t.Kind {
	case Immediate:
		return noWAL, nil
	case LSN:
		return walname.SegmentOf(p.target(), t.LSN, ix.size).No, nil
	case Time:
		// A segment archived before the target time holds only WAL
		// written before it, so recovery reads at least up to the first
		// segment archived at or after the target; if there is none, it
		// would run out of WAL short of the target (PostgreSQL 13+ then
		// fails with "recovery ended before configured recovery target
		// was reached").
		end := archiveEnd(p, ix, first)
		for no := first; end != noWAL && no <= end; no++ {
			if at, ok := ix.segments[p.segment(no, ix.size)]; ok && !at.Before(t.Time.Add(-modTimeSlack)) {
				return no, nil
			}
		}
		return 0, fmt.Errorf("%w: the newest WAL on the path to timeline %d was archived before %s", ErrTargetNotReached, p.target(), t.Time.UTC().Format(time.RFC3339))
	}
	// Latest, XID, Name: the position is unknown, so all archived WAL on
	// the path must be there without a gap.
	return archiveEnd(p, ix, first), nil
}

// archiveEnd is the highest segment number at or after first that the
// archive holds on path p, or noWAL.
func archiveEnd(p path, ix walIndex, first uint64) uint64 {
	end := noWAL
	for seg := range ix.segments {
		if seg.No >= first && p.segment(seg.No, ix.size) == seg && (end == noWAL || seg.No > end) {
			end = seg.No
		}
	}
	return end
}

func reason(b catalog.Meta, o Observation, plan Plan) string {
	why := "newest backup consistent before the target"
	switch {
	case o.BackupID != "":
		why = "backup chosen by ID"
	case o.Target.Kind == XID || o.Target.Kind == Name:
		why = "newest backup (the " + o.Target.Kind.String() + " target's position is unknown; choose an older backup by ID if the target precedes it)"
	}
	return fmt.Sprintf("%s: backup %s (stop %s at %s), then %d archived WAL segments to timeline %d",
		why, b.ID, b.StopLSN, b.StopTime.UTC().Format(time.RFC3339), len(plan.WAL), plan.Timeline)
}
