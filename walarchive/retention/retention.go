package retention

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tenure-pg/tenure/walarchive/catalog"
	"github.com/tenure-pg/tenure/walarchive/walname"
)

// ErrNoPolicy: neither KeepLast nor KeepWithin is set.
var ErrNoPolicy = errors.New("retention policy keeps nothing explicitly: set a count or a window")

// DefaultIncompleteGrace is how old an incomplete backup must be before
// it is deleted.
const DefaultIncompleteGrace = 24 * time.Hour

// Policy says what to keep. A backup is kept when either rule keeps it.
type Policy struct {
	KeepLast   int           // the newest N completed backups
	KeepWithin time.Duration // completed backups that ended within this long before now
	// IncompleteGrace: default DefaultIncompleteGrace.
	IncompleteGrace time.Duration
}

// Validate reports every problem with p.
func (p Policy) Validate() error {
	var errs []error
	if p.KeepLast < 0 {
		errs = append(errs, fmt.Errorf("keep last %d: want 0 or more", p.KeepLast))
	}
	if p.KeepWithin < 0 || p.IncompleteGrace < 0 {
		errs = append(errs, errors.New("retention durations must not be negative"))
	}
	if p.KeepLast == 0 && p.KeepWithin == 0 {
		errs = append(errs, ErrNoPolicy)
	}
	return errors.Join(errs...)
}

// Observation is what Decide decides from.
type Observation struct {
	Backups    []catalog.Meta
	Incomplete []catalog.Incomplete
	WAL        []string // file names under the archive's WAL prefix
	Now        time.Time
	Policy     Policy
}

// Decision is one backup and why it is kept or deleted.
type Decision struct {
	ID     string
	Reason string
}

// Plan is what to delete, and what is kept and why.
type Plan struct {
	Keep          []Decision
	DeleteBackups []Decision // completed and incomplete, oldest first
	DeleteWAL     []string   // in name order
	// WALFrom names the oldest segment kept ("" when no WAL is deleted
	// for lack of a completed backup).
	WALFrom string
}

// Decide applies the policy. It reads nothing but o.
func Decide(o Observation) (Plan, error) {
	if err := o.Policy.Validate(); err != nil {
		return Plan{}, err
	}
	grace := cmp.Or(o.Policy.IncompleteGrace, DefaultIncompleteGrace)
	var p Plan
	backups := slices.Clone(o.Backups)
	slices.SortFunc(backups, func(a, b catalog.Meta) int { return cmp.Compare(a.StopLSN, b.StopLSN) })
	var oldestKept *catalog.Meta
	for i, b := range backups {
		rank := len(backups) - i // 1 = newest
		if why := keepReason(b, rank, o); why != "" {
			p.Keep = append(p.Keep, Decision{b.ID, why})
			if oldestKept == nil {
				oldestKept = &backups[i]
			}
			continue
		}
		p.DeleteBackups = append(p.DeleteBackups, Decision{b.ID, fmt.Sprintf(
			"backup %d of %d by age, ended %s ago: outside keep-last %d and keep-within %v",
			rank, len(backups), o.Now.Sub(b.StopTime).Round(time.Second), o.Policy.KeepLast, o.Policy.KeepWithin)})
	}
	for _, inc := range o.Incomplete {
		if age := o.Now.Sub(inc.ModTime); age > grace {
			p.DeleteBackups = append(p.DeleteBackups, Decision{inc.ID, fmt.Sprintf("incomplete for %v (grace %v)", age.Round(time.Second), grace)})
		}
	}
	slices.SortFunc(p.DeleteBackups, func(a, b Decision) int { return cmp.Compare(a.ID, b.ID) })
	if oldestKept != nil {
		p.WALFrom, p.DeleteWAL = walBelow(*oldestKept, o.WAL)
	}
	return p, nil
}

// keepReason says why backup b (rank 1 = newest) is kept, "" if not.
func keepReason(b catalog.Meta, rank int, o Observation) string {
	switch {
	case rank == 1:
		return "newest completed backup (always kept)"
	case rank <= o.Policy.KeepLast:
		return fmt.Sprintf("one of the newest %d", o.Policy.KeepLast)
	case o.Policy.KeepWithin > 0 && !b.StopTime.Before(o.Now.Add(-o.Policy.KeepWithin)):
		return fmt.Sprintf("ended within %v", o.Policy.KeepWithin)
	}
	return ""
}

// walBelow lists the segments, partial segments and backup history files
// wholly before the start segment of backup b. History files and names
// that are not WAL are never listed.
func walBelow(b catalog.Meta, names []string) (string, []string) {
	size := walname.Size(b.WALSegmentSize)
	from := walname.SegmentOf(b.Timeline, b.StartLSN, size)
	var del []string
	for _, n := range names {
		f, err := walname.Parse(n, size)
		if err != nil || f.Kind == walname.KindHistory {
			continue
		}
		if f.Segment.No < from.No {
			del = append(del, n)
		}
	}
	slices.Sort(del)
	return from.Name(size), del
}
