package schedule

import (
	"fmt"
	"time"
)

// MaxFutureSkew is how far in the future a backup's start time may lie
// and still be trusted to cover its slot. Members synchronised by NTP
// differ by milliseconds; minutes mean a broken clock, and trusting a
// start time stamped a year ahead would stop backups for a year.
const MaxFutureSkew = 5 * time.Minute

// Observation is what Decide decides from.
type Observation struct {
	// Newest is the start time of the newest completed backup in the
	// catalogue (taken by any member, scheduled or manual); zero if none.
	Newest time.Time
	// Since is when the runner started: with no backup and no Immediate,
	// the first backup is due at the first slot after it.
	Since time.Time
	// Immediate: with no completed backup, one is due at once.
	Immediate bool
	Now       time.Time
}

// Decision says whether a backup is due now, and when.
type Decision struct {
	Due bool
	// Next is the slot a due backup serves (possibly in the past), or
	// when the next one is due. Zero when the schedule never fires again.
	Next   time.Time
	Reason string
}

// Decide applies the schedule. It reads nothing but its arguments.
func Decide(s Schedule, o Observation) Decision {
	if o.Newest.IsZero() {
		if o.Immediate {
			return Decision{Due: true, Next: o.Now, Reason: "no completed backup in the catalogue and immediate is set"}
		}
		next := s.Next(o.Since)
		return dueAt(next, o.Now, fmt.Sprintf("no completed backup in the catalogue: the first is due at the first slot after the runner started at %s", stamp(o.Since)))
	}
	if o.Newest.After(o.Now.Add(MaxFutureSkew)) {
		next := s.Next(o.Now)
		return Decision{Next: next, Reason: fmt.Sprintf("newest backup started at %s, more than %v after now (%s): a clock is wrong; scheduling from now",
			stamp(o.Newest), MaxFutureSkew, stamp(o.Now))}
	}
	next := s.Next(o.Newest)
	reason := fmt.Sprintf("newest backup started at %s", stamp(o.Newest))
	switch missed := missedSlots(s, next, o.Now); {
	case missed >= maxCounted:
		reason += fmt.Sprintf("; %d or more slots passed without a backup, caught up with one", maxCounted)
	case missed > 1:
		reason += fmt.Sprintf("; %d slots passed without a backup, caught up with one", missed)
	}
	return dueAt(next, o.Now, reason)
}

// dueAt is due when next has come.
func dueAt(next, now time.Time, reason string) Decision {
	switch {
	case next.IsZero():
		return Decision{Reason: reason + "; the schedule has no further slot"}
	case now.Before(next):
		return Decision{Next: next, Reason: fmt.Sprintf("%s; next slot %s", reason, stamp(next))}
	}
	return Decision{Due: true, Next: next, Reason: fmt.Sprintf("%s; slot %s is due", reason, stamp(next))}
}

// maxCounted bounds missedSlots: enough for a log line, and a bounded
// loop for "* * * * *" after a month-long outage.
const maxCounted = 100

// missedSlots counts the slots from first up to now, at most maxCounted.
func missedSlots(s Schedule, first, now time.Time) int {
	n := 0
	for t := first; !t.IsZero() && !t.After(now) && n < maxCounted; t = s.Next(t) {
		n++
	}
	return n
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
