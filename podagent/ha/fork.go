package ha

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tenure-pg/tenure/internal/lsn"
)

// TimelineSwitch is one line of a timeline history file: timeline Parent
// ended at Switchpoint, where its child began.
type TimelineSwitch struct {
	Parent      int64
	Switchpoint uint64
}

// Fork is this member's WAL position set against the leader's timeline
// history, for members whose timeline is older than the leader's. The zero
// value means "not compared" (same timeline, nothing to compare with, or
// the leader's history could not be read): never a divergence.
type Fork struct {
	Leader string
	// Timeline and Position are this member's: for a running replica,
	// the timeline of the WAL it holds and its replay position; for a
	// stopped one, its control data's minimum recovery point, or its last
	// checkpoint.
	Timeline int64
	Position uint64
	// LeaderTimeline is the leader's timeline and History its history
	// file's entries (TIMELINE_HISTORY), oldest first.
	LeaderTimeline int64
	History        []TimelineSwitch
}

// Diverged reports whether this member's WAL went past the point where
// its timeline ended in the leader's history, as Patroni's rewind check
// does: such a member holds WAL (and rows) the leader never had, and
// postgres itself will not follow the leader ("new timeline N forked off
// current database system timeline M before current recovery point X",
// every 5 s, forever). The reason says where.
func (f Fork) Diverged() (bool, string) {
	if f.Leader == "" || f.Timeline <= 0 || f.Timeline >= f.LeaderTimeline {
		return false, ""
	}
	for _, s := range f.History {
		if s.Parent == f.Timeline {
			if f.Position > s.Switchpoint {
				return true, fmt.Sprintf("timeline %d at %s is past %s, where the timeline ended in %s's history (timeline %d)",
					f.Timeline, lsn.LSN(f.Position), lsn.LSN(s.Switchpoint), f.Leader, f.LeaderTimeline)
			}
			return false, ""
		}
	}
	return true, fmt.Sprintf("timeline %d is not in %s's history (timeline %d)", f.Timeline, f.Leader, f.LeaderTimeline)
}

// ParseHistory parses a timeline history file ("parent\tswitchpoint\treason"
// lines; blank lines and # comments skipped), as PostgreSQL's
// readTimeLineHistory does. Parents must increase.
func ParseHistory(content string) ([]TimelineSwitch, error) {
	var out []TimelineSwitch
	for n, line := range strings.Split(content, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			return nil, fmt.Errorf("history line %d: %w: %q", n+1, errHistory, line)
		}
		tli, err := strconv.ParseUint(fields[0], 10, 32)
		if err != nil || tli == 0 {
			return nil, fmt.Errorf("history line %d: %w: timeline %q", n+1, errHistory, fields[0])
		}
		at, err := lsn.Parse(fields[1])
		if err != nil {
			return nil, fmt.Errorf("history line %d: %w: %v", n+1, errHistory, err)
		}
		if k := len(out); k > 0 && int64(tli) <= out[k-1].Parent {
			return nil, fmt.Errorf("history line %d: %w: timeline %d after %d", n+1, errHistory, tli, out[k-1].Parent)
		}
		out = append(out, TimelineSwitch{Parent: int64(tli), Switchpoint: uint64(at)})
	}
	return out, nil
}

var errHistory = errors.New("malformed timeline history")
