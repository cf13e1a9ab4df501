package restore

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tenure-pg/tenure/walarchive/catalog"
	"github.com/tenure-pg/tenure/walarchive/walname"
)

// Sentinel errors of Plan; the messages name what is missing.
var (
	// ErrNoBackup: no completed backup can reach the target.
	ErrNoBackup = errors.New("no usable backup")
	// ErrWALMissing: a segment recovery needs is not in the archive.
	ErrWALMissing = errors.New("WAL missing from the archive")
	// ErrTimeline: the target timeline cannot be followed (no history
	// file, or the backup is not on its path).
	ErrTimeline = errors.New("timeline not reachable")
	// ErrTargetNotReached: the archived WAL ends before the target.
	ErrTargetNotReached = errors.New("archive ends before the target")
)

// WALFile is one archived WAL file with its storage time.
type WALFile = catalog.WALFile

// Observation is everything Plan decides from.
type Observation struct {
	Backups []catalog.Meta // completed backups, any order
	WAL     []WALFile      // the archive's WAL files, any order
	// Histories holds the parsed history file of each timeline whose
	// .history file is in WAL.
	Histories map[uint32][]Switch
	Target    Target
	// BackupID, if set, forces that backup instead of the newest usable.
	BackupID string
}

// Plan is a restore decided: which backup, which WAL recovery will fetch.
type Plan struct {
	Backup catalog.Meta
	Target Target
	// Timeline is the timeline recovery ends on.
	Timeline uint32
	// WAL lists the archived segments recovery will fetch after the
	// WAL included in the backup, in order; History the history files.
	WAL     []string
	History []string
	Reason  string
	// End is how far a restore to latest must recover (nil for other
	// targets): Execute records it in the data directory (EndFile) so
	// whoever runs the recovery can check it did not stop short.
	End *End
}

// Decide chooses the newest backup that can reach the target and checks
// that every WAL file recovery needs is archived. It reads nothing but o
// and changes nothing: refusing here leaves the target directory as it was.
func Decide(o Observation) (Plan, error) {
	if err := o.Target.Validate(); err != nil {
		return Plan{}, err
	}
	backups := slices.Clone(o.Backups)
	slices.SortFunc(backups, func(a, b catalog.Meta) int { return cmp.Compare(b.StopLSN, a.StopLSN) })
	if len(backups) == 0 {
		return Plan{}, fmt.Errorf("%w: the archive holds no completed backup", ErrNoBackup)
	}
	wal := indexWAL(o.WAL, backups[0].WALSegmentSize)
	var rejected []error
	for _, b := range backups {
		if o.BackupID != "" && b.ID != o.BackupID {
			continue
		}
		p, err := pathFor(o, b)
		if err != nil {
			rejected = append(rejected, err)
			continue
		}
		if why := reaches(b, o.Target); why != "" {
			rejected = append(rejected, fmt.Errorf("backup %s: %s", b.ID, why))
			continue
		}
		return planFor(o, b, p, wal)
	}
	if o.BackupID != "" && len(rejected) == 0 {
		return Plan{}, fmt.Errorf("%w: no completed backup %q", ErrNoBackup, o.BackupID)
	}
	return Plan{}, fmt.Errorf("%w for target %s: %w", ErrNoBackup, o.Target, reasons(rejected))
}

// reasons joins why each backup was rejected on one line; errors.Is sees
// every one of them.
type reasons []error

func (r reasons) Unwrap() []error { return r }

func (r reasons) Error() string {
	var b strings.Builder
	for i, e := range r {
		if i == 3 { // older backups are rejected for the same reason
			fmt.Fprintf(&b, "; and %d more", len(r)-3)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// reaches says why b cannot reach t ("" when it can): recovery must
// reach b's consistency point before the target.
func reaches(b catalog.Meta, t Target) string {
	switch t.Kind {
	case Time:
		if b.StopTime.After(t.Time) {
			return fmt.Sprintf("ended at %s, after the target time", b.StopTime.Format(time.RFC3339))
		}
	case LSN:
		if b.StopLSN > t.LSN {
			return fmt.Sprintf("consistent only at %s, after the target LSN", b.StopLSN)
		}
	}
	return ""
}

// pathFor resolves the target timeline for backup b.
func pathFor(o Observation, b catalog.Meta) (path, error) {
	tli, word, _ := o.Target.timeline()
	switch word {
	case TimelineCurrent:
		tli = b.StopTimeline
	case TimelineLatest:
		tli = b.StopTimeline
		for t := range o.Histories {
			tli = max(tli, t)
		}
	}
	history, ok := o.Histories[tli]
	if !ok && tli > 1 && tli != b.Timeline {
		return nil, fmt.Errorf("%w: timeline %d has no history file %s in the archive", ErrTimeline, tli, walname.HistoryName(tli))
	}
	p := pathTo(tli, history)
	if !p.contains(b.Timeline, b.StartLSN) || !p.contains(b.StopTimeline, b.StopLSN) {
		return nil, fmt.Errorf("backup %s (timeline %d, %s) is not on the history of timeline %d: %w", b.ID, b.StopTimeline, b.StopLSN, tli, ErrTimeline)
	}
	return p, nil
}
