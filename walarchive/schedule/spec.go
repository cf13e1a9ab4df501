package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ErrSchedule: a schedule spec does not parse, never fires, or fires more
// than once a minute.
var ErrSchedule = errors.New("invalid backup schedule")

// Schedule is a parsed cron spec.
type Schedule struct {
	spec  string
	sched cron.Schedule
}

// parser reads the standard five fields plus @descriptors, as crontab,
// Kubernetes CronJob and cron.ParseStandard do.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// probeFrom is where Parse looks for a schedule's activations. robfig/cron
// searches five years ahead, and 2000 is a leap year, so "0 0 29 2 *"
// passes and "0 0 30 2 *" (never) fails.
var probeFrom = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Parse reads spec. The error names spec and wraps ErrSchedule.
func Parse(spec string) (s Schedule, err error) {
	spec = strings.TrimSpace(spec)
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %q: %s", ErrSchedule, spec, fmt.Sprintf(format, args...))
	}
	if spec == "" {
		return Schedule{}, fmt.Errorf("%w: empty", ErrSchedule)
	}
	// robfig/cron v3.0.1 slices out of range on "CRON_TZ=UTC" with no
	// fields after it; turn any such panic into an error.
	defer func() {
		if r := recover(); r != nil {
			s, err = Schedule{}, bad("%v", r)
		}
	}()
	sched, perr := parser.Parse(spec)
	if perr != nil {
		return Schedule{}, bad("%v", perr)
	}
	s = Schedule{spec: spec, sched: sched}
	first := s.Next(probeFrom)
	if first.IsZero() {
		return Schedule{}, bad("never fires")
	}
	if second := s.Next(first); !second.IsZero() && second.Sub(first) < time.Minute {
		return Schedule{}, bad("fires every %v; want at most once a minute", second.Sub(first))
	}
	return s, nil
}

// Next is the first activation strictly after t, in UTC unless the spec
// names a zone; zero if there is none within five years.
func (s Schedule) Next(t time.Time) time.Time {
	if s.sched == nil {
		return time.Time{}
	}
	n := s.sched.Next(t.UTC())
	if n.IsZero() {
		return n
	}
	return n.UTC()
}

// String is the spec as given.
func (s Schedule) String() string { return s.spec }
