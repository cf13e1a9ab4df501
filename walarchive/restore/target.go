package restore

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tenure-pg/tenure/internal/lsn"
)

// Kind is what a recovery target names.
type Kind uint8

// Target kinds. The zero Kind is Latest.
const (
	Latest    Kind = iota // replay all archived WAL
	Immediate             // stop as soon as the backup is consistent
	Time                  // recovery_target_time
	LSN                   // recovery_target_lsn
	XID                   // recovery_target_xid
	Name                  // recovery_target_name (pg_create_restore_point)
)

func (k Kind) String() string {
	switch k {
	case Latest:
		return "latest"
	case Immediate:
		return "immediate"
	case Time:
		return "time"
	case LSN:
		return "lsn"
	case XID:
		return "xid"
	case Name:
		return "name"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Action is what postgres does on reaching the target.
type Action string

// Actions (recovery_target_action).
const (
	Promote Action = "promote"
	Pause   Action = "pause"
)

// Timeline choices besides a number (recovery_target_timeline).
const (
	TimelineLatest  = "latest"  // follow the newest timeline branching from the backup's
	TimelineCurrent = "current" // stay on the backup's timeline
)

// Target is where recovery stops.
type Target struct {
	Kind Kind
	Time time.Time // Kind Time
	LSN  lsn.LSN   // Kind LSN
	XID  uint64    // Kind XID
	Name string    // Kind Name
	// Exclusive stops just before the target instead of just after it
	// (recovery_target_inclusive = off). Time, LSN and XID only.
	Exclusive bool
	// Timeline is TimelineLatest (""), TimelineCurrent or a decimal
	// timeline ID.
	Timeline string
	// Action is Promote ("") or Pause. Latest always promotes: PostgreSQL
	// applies the action only when a target was set.
	Action Action
}

// Validate reports every problem with t at once.
func (t Target) Validate() error {
	var errs []error
	switch t.Kind {
	case Latest, Immediate:
	case Time:
		if t.Time.IsZero() {
			errs = append(errs, errors.New("target time: not set"))
		}
	case LSN:
		if t.LSN == 0 {
			errs = append(errs, errors.New("target lsn: not set"))
		}
	case XID:
		if t.XID < 3 { // 0-2 are invalid, bootstrap and frozen
			errs = append(errs, fmt.Errorf("target xid %d: want a normal transaction ID (3 or more)", t.XID))
		}
	case Name:
		if t.Name == "" || len(t.Name) > 63 {
			errs = append(errs, fmt.Errorf("target name %q: want 1 to 63 bytes", t.Name))
		}
	default:
		errs = append(errs, fmt.Errorf("target kind %d unknown", t.Kind))
	}
	if t.Exclusive && t.Kind != Time && t.Kind != LSN && t.Kind != XID {
		errs = append(errs, fmt.Errorf("target %s: exclusive applies only to time, lsn and xid targets", t.Kind))
	}
	if _, _, err := t.timeline(); err != nil {
		errs = append(errs, err)
	}
	switch t.Action {
	case "", Promote, Pause:
	default:
		errs = append(errs, fmt.Errorf("target action %q: want %q or %q", t.Action, Promote, Pause))
	}
	return errors.Join(errs...)
}

// timeline returns the explicit timeline ID, or 0 with the keyword.
func (t Target) timeline() (uint32, string, error) {
	switch t.Timeline {
	case "", TimelineLatest:
		return 0, TimelineLatest, nil
	case TimelineCurrent:
		return 0, TimelineCurrent, nil
	}
	n, err := strconv.ParseUint(t.Timeline, 10, 32)
	if err != nil || n == 0 {
		return 0, "", fmt.Errorf("target timeline %q: want %q, %q or a timeline number", t.Timeline, TimelineLatest, TimelineCurrent)
	}
	return uint32(n), "", nil
}

// String describes t for messages ("time 2026-11-23T10:15:00Z (inclusive)").
func (t Target) String() string {
	var s string
	switch t.Kind {
	case Time:
		s = "time " + t.Time.UTC().Format(time.RFC3339Nano)
	case LSN:
		s = "lsn " + t.LSN.String()
	case XID:
		s = "xid " + strconv.FormatUint(t.XID, 10)
	case Name:
		s = "restore point " + strconv.Quote(t.Name)
	default:
		return t.Kind.String()
	}
	if t.Exclusive {
		return s + " (exclusive)"
	}
	return s
}
