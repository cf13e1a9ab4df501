package api

import (
	"fmt"
	"time"

	"github.com/tenure-pg/tenure/leaderelect"
)

// ValidateSwitchover checks a switchover or failover request against the
// cluster as v shows it at now, with Patroni's rules and status classes,
// and returns it normalised (a failover naming a leader is a switchover).
// The REST API and the CLI both call it before recording an intent; the
// agent re-checks when it executes, since the cluster may change between.
//
//   - ErrBadRequest: a failover without candidate, a switchover without
//     leader, a scheduled failover, a schedule or no candidate while
//     paused, the same member as leader and candidate.
//   - ErrUnprocessable: a schedule in the past.
//   - ErrPrecondition (unscheduled requests only, as Patroni: by the time a
//     scheduled one is due the members may differ): the leader named is
//     not the lock holder; the candidate is unknown, outside the
//     synchronous set in synchronous mode, tagged nofailover or not
//     running; or, with no candidate named, no member could take over.
func ValidateSwitchover(v leaderelect.ClusterView, r SwitchoverRequest, now time.Time) (SwitchoverRequest, error) {
	action := "switchover"
	if r.Failover {
		action = "failover"
	}
	paused := v.State.Config.Paused
	switch {
	case r.Failover && r.Candidate == "":
		return r, fmt.Errorf("%w: failover could be performed only to a specific candidate", ErrBadRequest)
	case !r.Failover && r.Leader == "":
		return r, fmt.Errorf("%w: switchover could be performed only from a specific leader", ErrBadRequest)
	}
	if !r.ScheduledAt.IsZero() {
		switch {
		case r.Failover:
			return r, fmt.Errorf("%w: failover can't be scheduled", ErrBadRequest)
		case paused:
			return r, fmt.Errorf("%w: can't schedule switchover in the paused state", ErrBadRequest)
		case r.ScheduledAt.Before(now):
			return r, fmt.Errorf("%w: cannot schedule switchover in the past", ErrUnprocessable)
		}
	}
	if paused && r.Candidate == "" {
		return r, fmt.Errorf("%w: switchover is possible only to a specific candidate in a paused state", ErrBadRequest)
	}
	if r.Failover && r.Leader != "" {
		r.Failover, action = false, "switchover"
	}
	if r.Leader != "" && r.Leader == r.Candidate {
		return r, fmt.Errorf("%w: switchover target and source are the same", ErrBadRequest)
	}
	if r.ScheduledAt.IsZero() {
		if reason := impossible(v, r, action); reason != "" {
			return r, fmt.Errorf("%w: %s", ErrPrecondition, reason)
		}
	}
	return r, nil
}

// impossible says why no member could take over as r asks, or "".
func impossible(v leaderelect.ClusterView, r SwitchoverRequest, action string) string {
	holder := v.Lock.Holder
	if r.Leader != "" && holder != r.Leader {
		if holder == "" {
			return fmt.Sprintf("leader name does not match: %s does not hold the lock, nobody does", r.Leader)
		}
		return fmt.Sprintf("leader name does not match: the lock holder is %s", holder)
	}
	strictSync := SyncMode(v.State.Config) && v.State.Config.SynchronousMode != "quorum"
	if r.Candidate != "" {
		m, ok := v.Members[r.Candidate]
		switch {
		case !r.Failover && strictSync && !v.State.Sync.Contains(r.Candidate):
			return fmt.Sprintf("candidate name does not match with sync_standby: %s is not in the synchronous set", r.Candidate)
		case !ok:
			return fmt.Sprintf("candidate does not exist: no member %s has a heartbeat", r.Candidate)
		case r.Candidate == holder:
			return fmt.Sprintf("candidate %s already holds the lock", r.Candidate)
		}
		return limitation(m.MemberStatus)
	}
	var names []string
	for _, name := range v.MemberNames() {
		if name != holder && (!strictSync || v.State.Sync.Contains(name)) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		if strictSync {
			return action + " is not possible: can not find sync_standby"
		}
		return action + " is not possible: cluster does not have members except leader"
	}
	for _, name := range names {
		if limitation(v.Members[name].MemberStatus) == "" {
			return ""
		}
	}
	return action + " is not possible: no good candidates have been found"
}

// limitation says why m could not be promoted, or "".
func limitation(m leaderelect.MemberStatus) string {
	switch {
	case m.Tags.NoFailover:
		return fmt.Sprintf("candidate %s is tagged nofailover", m.Name)
	case m.State != StateRunning:
		return fmt.Sprintf("candidate %s is not running (state %q)", m.Name, m.State)
	}
	return ""
}
