package ha

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/tenure-pg/tenure/leaderelect"
)

// candidate is a member as ranked for promotion.
type candidate struct {
	name     string
	timeline int64
	received uint64
	replayed uint64
	priority int
}

// ahead orders candidates best first: newer timeline, more WAL received,
// more replayed, higher failover priority, then name. It is a total order,
// so every member that sees the same facts picks the same winner.
func ahead(a, b candidate) int {
	return cmp.Or(
		-cmp.Compare(a.timeline, b.timeline),
		-cmp.Compare(a.received, b.received),
		-cmp.Compare(a.replayed, b.replayed),
		-cmp.Compare(a.priority, b.priority),
		cmp.Compare(a.name, b.name),
	)
}

func self(o Observation) candidate {
	pg := o.Postgres
	return candidate{o.Self, pg.Timeline, pg.Position(), pg.ReplayedLSN, o.Settings.FailoverPriority}
}

func peerCandidate(name string, p Peer) candidate {
	return candidate{name, p.Timeline, p.Position(), p.ReplayedLSN, p.FailoverPriority}
}

// eligiblePeer reports whether a peer could itself win an election.
func eligiblePeer(o Observation, name string, p Peer) bool {
	if !p.Reachable || !p.Running || p.NoFailover || (p.Role != leaderelect.RoleReplica && p.Role != "") {
		return false
	}
	return !syncRestricted(o) || mayHoldCommits(o, name)
}

// mayHoldCommits reports whether member is known to hold every commit the
// last primary acknowledged: a member of the published synchronous set, or
// that primary itself (it may come back after all its standbys died).
func mayHoldCommits(o Observation, member string) bool {
	return o.View.State.Sync.Contains(member) || (o.View.State.Sync.Leader == member && member != "")
}

// syncRestricted reports whether promotion is limited to the published
// synchronous set. A set never published (no leader recorded) means no
// commit was ever acknowledged synchronously: ranking alone decides.
func syncRestricted(o Observation) bool {
	return syncMode(o) && o.View.State.Sync.Leader != ""
}

func syncMode(o Observation) bool {
	return o.Settings.SyncMode == SyncOn || o.Settings.SyncMode == SyncStrict
}

// elect is the path of a member that sees the lock free or expired.
func elect(o Observation) Decision {
	pg := o.Postgres
	if pg.Running && !pg.InRecovery {
		return decide("running as primary without the lock: demoting at once",
			act(Demote, "no lock held by this member"))
	}
	if pg.Restoring {
		// A clone's restored backup still recovering to its target (the
		// agent restarted meanwhile): only the lock holder's path starts
		// it and lets postgres promote itself there; an election promotion
		// would cut the recovery short.
		return decide("no leader: racing to finish recovering the restored backup",
			act(AcquireLock, "the restore's recovery continues under the lock"))
	}
	if !pg.Running {
		return decide("no leader: starting read-only to take part in the election",
			actOn(StartReplica, "", "no live leader to follow"))
	}
	if reason := ineligible(o); reason != "" {
		return wait("no leader, not racing: " + reason)
	}
	me := self(o)
	best := me.received
	var rivals []candidate
	for _, name := range sortedPeers(o) {
		p := o.Peers[name]
		if !p.Reachable || !p.Running {
			continue
		}
		if p.Leading {
			return wait(fmt.Sprintf("no leader as seen here, but %s reports it leads: waiting", name))
		}
		if p.Timeline >= me.timeline {
			// WAL on an older timeline than this member's is behind its
			// fork, or diverged from it: never a reason to wait. Counting
			// it left a cluster leaderless for good in the simulation (the
			// only member on the newest timeline "lagged" two replicas
			// holding the old primary's lost tail).
			best = max(best, p.Position())
		}
		if eligiblePeer(o, name, p) {
			rivals = append(rivals, peerCandidate(name, p))
		}
	}
	if lag := best - me.received; o.Settings.MaximumLagOnFailover > 0 && lag > o.Settings.MaximumLagOnFailover {
		return wait(fmt.Sprintf("no leader, not racing: %d bytes behind the best live member (cap %d)", lag, o.Settings.MaximumLagOnFailover))
	}
	if sw := o.View.State.Switchover; sw != nil && sw.Failover && sw.To != "" && sw.To != o.Self {
		return wait(fmt.Sprintf("failover requested to %s", sw.To))
	}
	forced := o.View.State.Switchover != nil && o.View.State.Switchover.Failover && o.View.State.Switchover.To == o.Self
	for _, r := range rivals {
		if !forced && ahead(r, me) < 0 {
			return wait(fmt.Sprintf("no leader, not racing: %s ranks ahead (timeline %d, lsn %d vs %d)", r.name, r.timeline, r.received, me.received))
		}
	}
	why := fmt.Sprintf("best live candidate (timeline %d, lsn %d, %d rivals)", me.timeline, me.received, len(rivals))
	acquire := act(AcquireLock, why)
	if o.HolderDead && !o.View.Lock.Expired(o.Now) {
		acquire = Action{Kind: AcquireLock, Member: o.View.Lock.Holder, Reason: why + "; the holder is dead as the kubelet reports"}
	}
	if o.Settings.StandbyCluster {
		// A standby cluster's leader stays in recovery: it only takes
		// over replaying the source archive and serving the replicas.
		return decide("no standby leader: racing as "+why, acquire)
	}
	return decide("no leader: racing as "+why, append([]Action{acquire}, promotion(o, why)...)...)
}

// ineligible says why this member may not race, or "".
func ineligible(o Observation) string {
	switch {
	case o.Settings.NoFailover:
		return "tagged nofailover"
	case o.View.State.Initialize == "":
		return "cluster not initialized"
	case syncRestricted(o) && !mayHoldCommits(o, o.Self):
		return "synchronous mode and not in the published synchronous set"
	}
	return ""
}

// bestReplica is the eligible live replica that ranks first, other than
// not; "" when there is none.
func bestReplica(o Observation, not string) string {
	var cands []candidate
	for _, name := range sortedPeers(o) {
		if p := o.Peers[name]; name != not && eligiblePeer(o, name, p) && p.Role == leaderelect.RoleReplica {
			cands = append(cands, peerCandidate(name, p))
		}
	}
	if len(cands) == 0 {
		return ""
	}
	return slices.MinFunc(cands, ahead).name
}

func sortedPeers(o Observation) []string {
	names := make([]string, 0, len(o.Peers))
	for n := range o.Peers {
		if n != o.Self {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}
