package restore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tenure-pg/tenure/internal/lsn"
	"github.com/tenure-pg/tenure/walarchive/walname"
)

// ErrStoppedShort: recovery to latest ended (promoted) before the WAL the
// archive holds. PostgreSQL ends recovery at the first WAL file
// restore_command reports missing and at the first invalid record; for a
// latest target it has nothing to compare with, so a segment deleted
// after the plan, or an archived segment whose content is not valid WAL,
// makes it promote on a history cut short without complaint.
var ErrStoppedShort = errors.New("recovery stopped short of the end of the archive")

// End is how far a restore to latest must recover: the archive's WAL on
// the target timeline's path, as the plan listed it. Recovery that ends
// before it lost the transactions after that point.
type End struct {
	// Timeline is the timeline recovery must end on.
	Timeline uint32 `json:"timeline"`
	// LSN is the start of the last archived segment (Segment): an archived
	// segment was complete, so everything before it is valid WAL and
	// recovery must replay at least to there. (Where valid WAL ends inside
	// the last segment only replaying it can tell.)
	LSN     lsn.LSN `json:"lsn"`
	Segment string  `json:"segment,omitempty"`
}

// Reached is where a recovery ended, read from the data directory after
// postgres promoted: the history file of the new timeline records the
// timeline recovery replayed last and the LSN where it stopped.
type Reached struct {
	Timeline    uint32    // the timeline recovery replayed last
	LSN         lsn.LSN   // where recovery ended and the new timeline began
	NewTimeline uint32    // the timeline promotion started
	Time        time.Time // last replayed commit; zero when unknown
}

func (r Reached) String() string {
	s := fmt.Sprintf("LSN %s on timeline %d (now timeline %d)", r.LSN, r.Timeline, r.NewTimeline)
	if !r.Time.IsZero() {
		s += ", last transaction at " + r.Time.UTC().Format(time.RFC3339Nano)
	}
	return s
}

// Short says why r ends before e, or returns "" when it does not. Pure.
func (e End) Short(r Reached) string {
	switch {
	case r.Timeline < e.Timeline:
		return fmt.Sprintf("recovery ended on timeline %d at %s; the archive goes on to timeline %d (through segment %s)",
			r.Timeline, r.LSN, e.Timeline, e.Segment)
	case r.Timeline == e.Timeline && r.LSN < e.LSN:
		return fmt.Sprintf("recovery ended at %s on timeline %d; the archive holds WAL through segment %s (from %s on): "+
			"a segment after %s was missing or not valid WAL when postgres asked for it",
			r.LSN, r.Timeline, e.Segment, e.LSN, r.LSN)
	}
	return ""
}

// Check is Short as an error wrapping ErrStoppedShort.
func (e End) Check(r Reached) error {
	if why := e.Short(r); why != "" {
		return fmt.Errorf("%w: %s", ErrStoppedShort, why)
	}
	return nil
}

// endFor is the End of a restore to latest from backup stop along the
// planned WAL; nil for other targets, whose end postgres checks itself
// (it fails with "recovery ended before configured recovery target was
// reached").
func endFor(t Target, timeline uint32, stop lsn.LSN, wal []string, size walname.Size) *End {
	if t.Kind != Latest {
		return nil
	}
	e := &End{Timeline: timeline, LSN: stop}
	if n := len(wal); n > 0 {
		seg, err := walname.ParseSegment(wal[n-1], size)
		if err == nil && seg.Start(size) > stop {
			e.LSN = seg.Start(size)
		}
		e.Segment = wal[n-1]
	}
	return e
}

// EndFile holds a restore to latest's End in the data directory until
// ClearRecoverySettings, so whoever starts postgres on it (tenure
// restore, the agent's clone bootstrap) can check where recovery ended.
const EndFile = "tenure-restore-end.json"

func writeEnd(dataDir string, e End, owner *Owner) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	path := filepath.Join(dataDir, EndFile)
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", EndFile, err)
	}
	if owner != nil {
		if err := os.Chown(path, owner.UID, owner.GID); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	return nil
}

// ReadEnd returns the End a restore recorded in dataDir; ok is false when
// there is none (not a restore to latest, or already finished off).
func ReadEnd(dataDir string) (e End, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dataDir, EndFile))
	if errors.Is(err, os.ErrNotExist) {
		return End{}, false, nil
	}
	if err != nil {
		return End{}, false, fmt.Errorf("read %s: %w", EndFile, err)
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return End{}, false, fmt.Errorf("read %s: %w", EndFile, err)
	}
	return e, true, nil
}

// ReadReached reads where recovery ended from the history file of
// timeline tli (the current one, from pg_control) in dataDir's pg_wal,
// which postgres writes when it promotes at the end of recovery.
func ReadReached(dataDir string, tli uint32) (Reached, error) {
	name := walname.HistoryName(tli)
	b, err := os.ReadFile(filepath.Join(dataDir, "pg_wal", name))
	if err != nil {
		return Reached{}, fmt.Errorf("where recovery ended: %w", err)
	}
	h, err := ParseHistory(b)
	if err != nil {
		return Reached{}, fmt.Errorf("where recovery ended: %s: %w", name, err)
	}
	if len(h) == 0 {
		return Reached{}, fmt.Errorf("where recovery ended: %s lists no switch", name)
	}
	last := h[len(h)-1]
	return Reached{Timeline: last.Parent, LSN: last.At, NewTimeline: tli}, nil
}

const incompletePrefix = "restore failed; the data directory is not usable: "

// IncompleteReason reads the marker in dataDir: ok is false without one;
// why is the reason MarkIncomplete recorded, or what Execute's marker
// says (a restore cut short).
func IncompleteReason(dataDir string) (why string, ok bool) {
	b, err := os.ReadFile(filepath.Join(dataDir, IncompleteMarker))
	if err != nil {
		return "", false
	}
	return strings.TrimPrefix(strings.TrimSpace(string(b)), incompletePrefix), true
}

// MarkIncomplete puts IncompleteMarker back into dataDir with why: a
// restore whose recovery failed or stopped short is no usable cluster,
// and the agent empties such a directory rather than start it.
func MarkIncomplete(dataDir, why string) error {
	msg := incompletePrefix + why + "\n"
	if err := os.WriteFile(filepath.Join(dataDir, IncompleteMarker), []byte(msg), 0o600); err != nil {
		return fmt.Errorf("mark the restore incomplete: %w", err)
	}
	return nil
}

// AbortFile is the note tenure-agent wal-fetch leaves in the data
// directory (its working directory) when it aborts archive recovery: why
// postgres stopped instead of promoting, for whoever restarts it (the
// agent reports it while a clone keeps retrying). ClearRecoverySettings
// removes it.
const AbortFile = "tenure-recovery-aborted"

// ReadAbort returns the note of the last aborted recovery in dataDir,
// "" without one.
func ReadAbort(dataDir string) string {
	b, err := os.ReadFile(filepath.Join(dataDir, AbortFile))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
