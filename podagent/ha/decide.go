package ha

import (
	"fmt"
	"slices"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/pgconf"
)

// Decide returns what this member should do now. It is pure: the same
// observation always gives the same decision.
func Decide(o Observation) Decision {
	if d, stop := refuse(o); stop {
		return d
	}
	switch {
	case o.Settings.Paused:
		return paused(o)
	case o.Stopping:
		return stopping(o)
	case o.Postgres.Unresponsive:
		return unresponsive(o)
	case o.Postgres.Dir == DirMissing || o.Postgres.Dir == DirEmpty:
		return bootstrap(o)
	case o.View.Lock.Holder == o.Self:
		return lead(o)
	case lockLive(o):
		return follow(o)
	}
	return elect(o)
}

// refuse stops everything when the data directory is not ours to use.
func refuse(o Observation) (Decision, bool) {
	pg := o.Postgres
	if pg.Dir == DirOther {
		return needsAttention("data directory is not empty and holds no PostgreSQL cluster; refusing to touch it"), true
	}
	if pg.Dir == DirInitialized && pg.SystemID != "" && o.View.State.Initialize != "" && pg.SystemID != o.View.State.Initialize {
		return needsAttention(fmt.Sprintf("data directory belongs to system %s, cluster is %s; refusing to join (data left untouched)",
			pg.SystemID, o.View.State.Initialize)), true
	}
	return Decision{}, false
}

func needsAttention(reason string) Decision {
	actions := []Action{{Kind: NeedsAttention, Reason: reason}}
	return Decision{Actions: actions, Reason: reason}
}

// Leading reports whether this member may act as a writable primary now:
// a fresh lock, or a failsafe confirmation within the renew deadline.
func Leading(o Observation) bool { return leading(o) }

func leading(o Observation) bool {
	if o.View.Leading(o.Now) {
		return true
	}
	return o.Settings.FailsafeMode && o.View.Lock.Holder == o.Self &&
		!o.FailsafeConfirmed.IsZero() && o.Now.Sub(o.FailsafeConfirmed) < o.Settings.RenewDeadline
}

// lockLive reports whether another member's hold on the lock counts as
// live from here: not expired as observed, or confirmed over REST by a
// failsafe round this member answered recently.
func lockLive(o Observation) bool {
	if o.HolderDead && o.View.Lock.Holder != o.Self {
		return false
	}
	if !o.View.Lock.Expired(o.Now) {
		return true
	}
	return o.View.Lock.Holder != "" && !o.FailsafeGranted.IsZero() && o.Now.Sub(o.FailsafeGranted) < o.Settings.TTL
}

// renewDue reports whether the holder should write the lock now.
func renewDue(o Observation) bool {
	return o.View.LastRenewal.IsZero() || o.Now.Sub(o.View.LastRenewal) >= o.Settings.RetryPeriod
}

func paused(o Observation) Decision {
	if o.View.Lock.Holder == o.Self && o.Postgres.Running && !o.Postgres.InRecovery && renewDue(o) {
		return decide("paused: keeping the lock, taking no other action", act(RenewLock, "paused primary keeps its lock"))
	}
	return wait("paused: observing only")
}

// unresponsive is the path of a member whose postgres runs but did not
// answer. A holder past its renew deadline stops it (it may be a primary:
// the guard would too); a fresh holder keeps its lock; everyone else waits
// for an observation that says what postgres is. Acting on "not running"
// here once started a former primary that was still shutting down as a
// replica, without pg_rewind (issue 13).
func unresponsive(o Observation) Decision {
	if o.View.Lock.Holder == o.Self {
		if !leading(o) && !o.View.LastRenewal.IsZero() {
			return decide("renew deadline passed and postgres is not answering: stopping it",
				act(Demote, "lock not renewed within the renew deadline"), act(RenewLock, "try to keep the lock"))
		}
		if renewDue(o) {
			return decide("leader: postgres is not answering; keeping the lock", act(RenewLock, "renewal due"))
		}
	}
	return wait("postgres is running but not answering: waiting to see what it is")
}

// bootstrap fills an empty data directory.
func bootstrap(o Observation) Decision {
	if o.View.State.Initialize == "" {
		if o.View.Lock.Holder == o.Self {
			return decide("bootstrap race won: creating the cluster", act(RenewLock, "keep the lock while bootstrapping"),
				create(o))
		}
		if lockLive(o) {
			return wait(fmt.Sprintf("cluster not initialized; %s is bootstrapping it", o.View.Lock.Holder))
		}
		return decide("cluster not initialized: racing to bootstrap it",
			act(AcquireLock, "the winner of the lock creates the cluster"), create(o))
	}
	holder := o.View.Lock.Holder
	if holder == "" || holder == o.Self || !lockLive(o) {
		return wait("empty data directory and no live leader to clone from")
	}
	return decide("cloning the leader", actOn(Basebackup, holder, "empty data directory: clone the leader"))
}

// create is how the bootstrap winner fills its data directory.
func create(o Observation) Action {
	if o.Settings.FromArchive {
		return act(RestoreArchive, "this member won the bootstrap race: restore the source cluster's archive")
	}
	return act(InitDB, "this member won the bootstrap race")
}

// lead is the holder's path.
func lead(o Observation) Decision {
	pg := o.Postgres
	if pg.Running && !pg.InRecovery && !leading(o) && !o.View.LastRenewal.IsZero() {
		return decide("renew deadline passed: demoting before anyone can see the lock expire",
			act(Demote, "lock not renewed within the renew deadline"), act(RenewLock, "try to keep the lock"))
	}
	var actions []Action
	if renewDue(o) {
		actions = append(actions, act(RenewLock, "renewal due"))
	}
	if pg.Restoring {
		return restoring(o, actions)
	}
	if o.View.State.Initialize == "" && pg.SystemID != "" {
		actions = append(actions, Action{Kind: RecordInitialize, Member: pg.SystemID, Reason: "record the new cluster's system identifier"})
	}
	switch {
	case !pg.Running && !pg.WasPrimary:
		// Starting a standby's data directory without standby settings
		// would promote it behind the fence's back: start it in recovery
		// and promote it on the next loop, fenced.
		return decide("leader: starting the former replica in recovery to promote it",
			append(actions, actOn(StartReplica, "", "start in recovery, then promote with fencing"))...)
	case !pg.Running:
		return decide("leader: starting postgres", append(actions, act(StartPrimary, "leader's postgres is not running"))...)
	case pg.InRecovery && o.Settings.StandbyCluster:
		return standbyLeader(o, actions)
	case pg.InRecovery:
		return decide("leader: promoting", append(actions, promotion(o, "this member holds the lock")...)...)
	}
	if sw := o.View.State.Switchover; sw != nil {
		if d, ok := switchover(o, *sw, actions); ok {
			return d
		}
	}
	syncSteps := syncActions(o)
	actions = append(actions, syncSteps...)
	soon := len(syncSteps) == 0 && syncPending(o)
	if missing := missingSlots(o); len(missing) > 0 {
		actions = append(actions, Action{Kind: CreateSlots, Members: missing, Reason: "keep WAL for every member"})
	}
	if o.Settings.InPod && o.Label != leaderelect.RolePrimary {
		actions = append(actions, label(leaderelect.RolePrimary))
	}
	var d Decision
	switch {
	case len(actions) == 0:
		d = wait("leader: all well")
	case len(actions) == 1 && actions[0].Kind == RenewLock:
		d = decide("leader: all well", actions...)
	default:
		d = decide("leader: maintaining", actions...)
	}
	d.Soon = soon
	return d
}

// restoring is the leader of a clone while postgres recovers the
// restored backup to its target. The cluster is recorded as initialized
// only once that is done, so the other members wait to clone it rather
// than copy a half-recovered server.
func restoring(o Observation, actions []Action) Decision {
	pg := o.Postgres
	switch {
	case pg.RestoreShort != "" && pg.Running:
		// Postgres promoted itself short of the archive's end: it must
		// never serve as the cluster's primary (it lacks committed data).
		return decide("leader: recovery of the restored backup stopped short: "+pg.RestoreShort,
			append(actions, act(AbandonRestore, pg.RestoreShort))...)
	case pg.RestoreShort != "":
		reason := "restore abandoned, the data directory is not usable: " + pg.RestoreShort +
			"; fix the source archive, then restart the agent to restore again"
		return decide(reason, append(actions, Action{Kind: NeedsAttention, Reason: reason})...)
	case !pg.Running:
		// Without standby settings: recovery.signal and the restore's
		// target make postgres recover, then promote itself.
		reason := "leader: recovering the restored backup to its target"
		if pg.RecoveryAborted != "" {
			reason += "; the last attempt was aborted, retrying: " + pg.RecoveryAborted
		}
		return decide(reason, append(actions, act(StartPrimary, "recover the restored backup"))...)
	case pg.InRecovery:
		if len(actions) == 0 {
			return wait("leader: recovering the restored backup to its target")
		}
		return decide("leader: recovering the restored backup to its target", actions...)
	}
	return decide("leader: recovery of the restored backup finished",
		append(actions, act(FinishRestore, "postgres reached the target and promoted itself"))...)
}

// promotion is fence, promote, label, history: in that order, so that no
// pod carries the primary label of an old leader once this one writes.
func promotion(o Observation, why string) []Action {
	actions := []Action{
		act(FenceOthers, "remove the primary label from every other pod before promoting"),
		act(Promote, why),
		// Right away, so that no later failure skips it: pg_rewind of
		// former primaries reads the new timeline from the control file.
		act(Checkpoint, "pg_rewind of former primaries reads the new timeline from the control file"),
	}
	if o.Settings.InPod {
		actions = append(actions, label(leaderelect.RolePrimary))
	}
	reason := "failover"
	if sw := o.View.State.Switchover; sw != nil && (sw.To == o.Self || sw.To == "") {
		reason = "switchover"
		actions = append(actions, act(ClearSwitchover, "switchover done"))
	}
	return append(actions, Action{Kind: RecordHistory, Member: o.Self, Reason: reason})
}

// missingSlots lists the members with a heartbeat whose replication slot
// the primary lacks. Slots of departed members are kept: dropping one is
// left to a human (a member may only be away for a while).
func missingSlots(o Observation) []string {
	var out []string
	for _, name := range o.View.MemberNames() {
		if name != o.Self && !slices.Contains(o.Postgres.Slots, pgconf.SlotName(name)) {
			out = append(out, name)
		}
	}
	return out
}
