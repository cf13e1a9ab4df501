package ha

import (
	"fmt"

	"github.com/tenure-pg/tenure/leaderelect"
)

// follow is the path of a member that sees another member's live lock.
func follow(o Observation) Decision {
	pg := o.Postgres
	leader := o.View.Lock.Holder
	if pg.Running && !pg.InRecovery {
		return decide(fmt.Sprintf("%s holds the lock: demoting at once", leader),
			act(Demote, fmt.Sprintf("%s holds the lock (epoch %d)", leader, o.View.Lock.Epoch)))
	}
	var actions []Action
	if o.Settings.InPod && o.Label == leaderelect.RolePrimary {
		// Drop a stale primary label first, whatever else happens.
		actions = append(actions, label(leaderelect.RoleReplica))
	}
	diverged, why := o.Fork.Diverged()
	if diverged {
		if d, ok := divergedReplica(o, why, actions); ok {
			return d
		}
	}
	switch {
	case !pg.Running && pg.WasPrimary && pg.RewindFailed && o.Settings.RecloneOnRewindFailure:
		return decide("rewind impossible: re-cloning the leader as policy allows",
			append(actions, actOn(Reclone, leader, "pg_rewind failed and re-clone is allowed"))...)
	case !pg.Running && pg.WasPrimary && pg.RewindFailed:
		return needsAttention(fmt.Sprintf("former primary cannot be rewound onto %s and re-clone is not allowed", leader))
	case !pg.Running && pg.WasPrimary:
		return decide("former primary: rewinding onto the leader",
			append(actions, actOn(Rewind, leader, "this data directory was a primary and may have diverged"))...)
	case !pg.Running:
		return decide("starting as a replica",
			append(actions, actOn(StartReplica, leader, "follow the leader"))...)
	case pg.Following != leader:
		return decide(fmt.Sprintf("following %s", leader),
			append(actions, actOn(Follow, leader, "the leader changed"))...)
	}
	if o.Settings.InPod && o.Label == "" {
		actions = append(actions, label(leaderelect.RoleReplica))
	}
	if len(actions) == 0 {
		return wait(fmt.Sprintf("replica of %s", leader))
	}
	return decide("replica: maintaining", actions...)
}

// divergedReplica is a member in recovery whose WAL went past the fork
// point of the leader's timeline: postgres will never follow the leader,
// and it serves rows nobody else has. It is stopped (pg_rewind needs a
// stopped target), rewound onto the leader, re-cloned if that fails and
// policy allows, or left for a human. ok is false for a former primary,
// whose own path (above in follow) already rewinds it.
func divergedReplica(o Observation, why string, actions []Action) (Decision, bool) {
	pg := o.Postgres
	leader := o.View.Lock.Holder
	if pg.WasPrimary && !pg.Running {
		return Decision{}, false
	}
	var next Action
	switch {
	case pg.RewindFailed && o.Settings.RecloneOnRewindFailure:
		next = actOn(Reclone, leader, "diverged, pg_rewind failed and re-clone is allowed")
	case pg.RewindFailed:
		return needsAttention(fmt.Sprintf("diverged from %s (%s); pg_rewind failed and re-clone is not allowed", leader, why)), true
	default:
		next = actOn(Rewind, leader, "diverged: "+why)
	}
	if pg.Running {
		actions = append(actions, act(StopPostgres, "pg_rewind and re-clone need postgres stopped"))
	}
	return decide(fmt.Sprintf("diverged from %s: %s", leader, why), append(actions, next)...), true
}

// stopping is the graceful shutdown path.
func stopping(o Observation) Decision {
	pg := o.Postgres
	// A postgres that does not answer is stopped like a running one.
	pg.Running = pg.Running || pg.Unresponsive
	if o.View.Lock.Holder != o.Self {
		if pg.Running {
			return decide("shutting down", act(StopPostgres, "agent stopping"), act(Exit, "stopped"))
		}
		return decide("shutting down", act(Exit, "postgres not running"))
	}
	actions := []Action{}
	if pg.Running {
		actions = append(actions, act(StopPostgres, "shutdown checkpoint before handing over"))
	}
	if to := bestReplica(o, ""); to != "" && (pg.Running || !pg.InRecovery) {
		return decide(fmt.Sprintf("shutting down: handing the lock to %s", to), append(actions,
			actOn(AwaitCandidate, to, "the candidate must receive all WAL up to the shutdown checkpoint"),
			actOn(HandOver, to, "graceful stop of the leader"),
			act(Exit, "handed over"))...)
	}
	return decide("shutting down: no caught-up replica, releasing the lock", append(actions,
		act(ReleaseLock, "graceful stop without a candidate"), act(Exit, "released"))...)
}
