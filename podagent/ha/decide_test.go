package ha

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenure-pg/tenure/leaderelect"
)

func TestDecide(t *testing.T) {
	promote := []Kind{AcquireLock, FenceOthers, Promote, Checkpoint, Label, RecordHistory}
	cases := []struct {
		name string
		obs  Observation
		want []Kind
		// reason, when set, must appear in the decision's reason.
		reason string
	}{
		// Data directory safety.
		{"foreign system identifier is refused", with(replicaOf("a"), func(o *Observation) { o.Postgres.SystemID = "6999" }),
			[]Kind{NeedsAttention}, "refusing to join"},
		{"unknown directory contents are refused", with(replicaOf("a"), func(o *Observation) { o.Postgres.Dir = DirOther }),
			[]Kind{NeedsAttention}, "refusing"},

		// Bootstrap.
		{"uninitialized cluster, free lock: race to initdb", with(replicaOf(""), func(o *Observation) {
			o.Postgres = Postgres{Dir: DirEmpty}
			o.View.State.Initialize = ""
			o.View.Lock = leaderelect.LockView{}
		}), []Kind{AcquireLock, InitDB}, "racing to bootstrap"},
		{"uninitialized cluster, another bootstraps", with(replicaOf("a"), func(o *Observation) {
			o.Postgres = Postgres{Dir: DirMissing}
			o.View.State.Initialize = ""
		}), []Kind{Wait}, "a is bootstrapping"},
		{"empty member clones the live leader", with(replicaOf("a"), func(o *Observation) { o.Postgres = Postgres{Dir: DirEmpty} }),
			[]Kind{Basebackup}, "cloning"},
		{"empty member without a leader waits", with(orphan(), func(o *Observation) { o.Postgres = Postgres{Dir: DirEmpty} }),
			[]Kind{Wait}, "no live leader"},
		{"uninitialized cluster restoring from an archive races to restore it", with(replicaOf(""), func(o *Observation) {
			o.Postgres = Postgres{Dir: DirEmpty}
			o.View.State.Initialize = ""
			o.View.Lock = leaderelect.LockView{}
			o.Settings.FromArchive = true
		}), []Kind{AcquireLock, RestoreArchive}, "racing to bootstrap"},
		{"archive bootstrap winner holding the lock restores", with(leaderNow(), func(o *Observation) {
			o.Postgres = Postgres{Dir: DirEmpty}
			o.View.State.Initialize = ""
			o.Settings.FromArchive = true
		}), []Kind{RenewLock, RestoreArchive}, "bootstrap race won"},
		{"bootstrap winner records its system identifier", with(leaderNow(), func(o *Observation) { o.View.State.Initialize = "" }),
			[]Kind{RecordInitialize}, ""},

		// Clone recovering its restored backup to the target.
		{"clone leader starts the restored backup to recover it", with(leaderNow(), func(o *Observation) {
			o.Postgres = Postgres{Dir: DirInitialized, SystemID: "7001", Restoring: true}
			o.View.State.Initialize = ""
		}), []Kind{StartPrimary}, "recovering the restored backup"},
		{"clone leader restarts a recovery the archive aborted, and says why", with(leaderNow(), func(o *Observation) {
			o.Postgres = Postgres{Dir: DirInitialized, SystemID: "7001", Restoring: true,
				RecoveryAborted: "restore_command could not fetch 000000010000000000000004: archive object corrupt"}
			o.View.State.Initialize = ""
		}), []Kind{StartPrimary}, "aborted, retrying: restore_command could not fetch 000000010000000000000004"},
		{"clone leader never promotes during its recovery, nor records the cluster", with(leaderNow(), func(o *Observation) {
			o.Postgres.InRecovery, o.Postgres.WasPrimary, o.Postgres.Restoring = true, false, true
			o.View.State.Initialize = ""
		}), []Kind{Wait}, "recovering the restored backup"},
		{"clone leader finishes the restore once postgres promoted itself", with(leaderNow(), func(o *Observation) {
			o.Postgres.Restoring = true
			o.View.State.Initialize = ""
		}), []Kind{FinishRestore}, "finished"},
		{"clone that promoted short of its archive is stopped, never finished", with(leaderNow(), func(o *Observation) {
			o.Postgres.Restoring = true
			o.Postgres.RestoreShort = "recovery ended at 0/6000000 on timeline 1; the archive holds WAL through segment 000000010000000000000008"
			o.View.State.Initialize = ""
		}), []Kind{AbandonRestore}, "stopped short: recovery ended at 0/6000000"},
		{"abandoned clone needs attention and is never started", with(leaderNow(), func(o *Observation) {
			o.Postgres = Postgres{Dir: DirInitialized, SystemID: "7001", Restoring: true, RestoreShort: "recovery ended at 0/6000000"}
			o.View.State.Initialize = ""
		}), []Kind{NeedsAttention}, "restore abandoned"},
		{"clone recovering without the lock only takes the lock, never promotes", with(orphan(), func(o *Observation) {
			o.Postgres.InRecovery, o.Postgres.WasPrimary, o.Postgres.Restoring = true, false, true
			o.View.State.Initialize = ""
		}), []Kind{AcquireLock}, "finish recovering the restored backup"},
		{"others wait while the clone recovers", with(replicaOf("a"), func(o *Observation) {
			o.Postgres = Postgres{Dir: DirEmpty}
			o.View.State.Initialize = ""
		}), []Kind{Wait}, "a is bootstrapping"},

		// Standby cluster.
		{"standby leader stays in recovery", with(leaderNow(), func(o *Observation) {
			o.Postgres.InRecovery, o.Postgres.WasPrimary = true, false
			o.Settings.StandbyCluster = true
		}), []Kind{Wait}, "standby leader"},
		{"new standby leader switches from its old leader to the source archive", with(leaderNow(), func(o *Observation) {
			o.Postgres.InRecovery, o.Postgres.WasPrimary, o.Postgres.Following = true, false, "b"
			o.Settings.StandbyCluster = true
		}), []Kind{Follow}, "standby leader"},
		{"standby leader keeps slots and its label", with(leaderNow(), func(o *Observation) {
			o.Postgres.InRecovery, o.Postgres.WasPrimary = true, false
			o.Postgres.Slots = []string{"b"}
			o.Label = ""
			o.Settings.StandbyCluster = true
		}), []Kind{CreateSlots, Label}, "standby leader"},
		{"standby cluster turned off promotes its leader", with(leaderNow(), func(o *Observation) {
			o.Postgres.InRecovery, o.Postgres.WasPrimary = true, false
		}), []Kind{FenceOthers, Promote, Checkpoint, Label, RecordHistory}, "promoting"},
		{"standby cluster without a leader: the best replica takes the lock, no promotion", with(orphan(), func(o *Observation) {
			o.Settings.StandbyCluster = true
		}), []Kind{AcquireLock}, "no standby leader"},

		// Leader.
		{"fresh leader, nothing due", with(leaderNow(), func(o *Observation) {}), []Kind{Wait}, "all well"},
		{"leader renews when due", with(leaderNow(), func(o *Observation) { o.View.LastRenewal = t0.Add(-5 * time.Second) }),
			[]Kind{RenewLock}, ""},
		{"leader past renew deadline demotes first", with(leaderNow(), func(o *Observation) { o.View.LastRenewal = t0.Add(-7 * time.Second) }),
			[]Kind{Demote, RenewLock}, "renew deadline"},
		{"failsafe confirmation keeps the leader", with(leaderNow(), func(o *Observation) {
			o.View.LastRenewal = t0.Add(-8 * time.Second)
			o.Settings.FailsafeMode = true
			o.FailsafeConfirmed = t0.Add(-time.Second)
		}), []Kind{RenewLock}, ""},
		{"stale failsafe confirmation does not", with(leaderNow(), func(o *Observation) {
			o.View.LastRenewal = t0.Add(-8 * time.Second)
			o.Settings.FailsafeMode = true
			o.FailsafeConfirmed = t0.Add(-7 * time.Second)
		}), []Kind{Demote, RenewLock}, ""},
		{"handed-over lock: renew before promoting", with(replicaOf("b"), func(o *Observation) {}),
			[]Kind{RenewLock, FenceOthers, Promote, Checkpoint, Label, RecordHistory}, "promoting"},
		{"leader starts stopped primary", with(leaderNow(), func(o *Observation) { o.Postgres.Running = false }),
			[]Kind{StartPrimary}, ""},
		{"leader starts a former replica in recovery, never as primary", with(leaderNow(), func(o *Observation) {
			o.Postgres.Running, o.Postgres.WasPrimary = false, false
		}), []Kind{StartReplica}, "in recovery"},
		{"leader creates missing slots", with(leaderNow(), func(o *Observation) { o.Postgres.Slots = []string{"b"} }),
			[]Kind{CreateSlots}, ""},
		{"leader fixes its label", with(leaderNow(), func(o *Observation) { o.Label = "" }), []Kind{Label}, ""},
		{"outside a pod no labels", with(leaderNow(), func(o *Observation) { o.Label = ""; o.Settings.InPod = false }), []Kind{Wait}, ""},

		// Follower.
		{"primary that sees another holder demotes at once", with(replicaOf("a"), func(o *Observation) { o.Postgres.InRecovery = false }),
			[]Kind{Demote}, "demoting at once"},
		{"streaming replica waits", replicaOf("a"), []Kind{Wait}, "replica of a"},
		{"replica follows a new leader", with(replicaOf("c"), func(o *Observation) { o.Postgres.Following = "a" }), []Kind{Follow}, "following c"},
		{"stopped replica starts following", with(replicaOf("a"), func(o *Observation) { o.Postgres.Running = false }),
			[]Kind{StartReplica}, ""},
		{"former primary rewinds", with(replicaOf("a"), func(o *Observation) { o.Postgres.Running, o.Postgres.WasPrimary = false, true }),
			[]Kind{Rewind}, "rewinding"},
		{"failed rewind re-clones when allowed", with(replicaOf("a"), func(o *Observation) {
			o.Postgres.Running, o.Postgres.WasPrimary, o.Postgres.RewindFailed = false, true, true
			o.Settings.RecloneOnRewindFailure = true
		}), []Kind{Reclone}, ""},
		{"failed rewind needs attention otherwise", with(replicaOf("a"), func(o *Observation) {
			o.Postgres.Running, o.Postgres.WasPrimary, o.Postgres.RewindFailed = false, true, true
		}), []Kind{NeedsAttention}, "re-clone is not allowed"},
		// Divergence: every member, not only a former primary, is checked
		// against the leader's timeline history (fork at 900 here).
		{"diverged running replica stops and rewinds", with(replicaOf("a"), forkedAt(1000)),
			[]Kind{StopPostgres, Rewind}, "diverged from a"},
		{"diverged stopped replica rewinds", with(replicaOf("a"), forkedAt(1000), func(o *Observation) { o.Postgres.Running = false }),
			[]Kind{Rewind}, "past 0/384"},
		{"diverged replica whose rewind failed re-clones when allowed", with(replicaOf("a"), forkedAt(1000), func(o *Observation) {
			o.Postgres.Running, o.Postgres.RewindFailed = false, true
			o.Settings.RecloneOnRewindFailure = true
		}), []Kind{Reclone}, "diverged"},
		{"diverged running replica whose rewind failed stops to re-clone", with(replicaOf("a"), forkedAt(1000), func(o *Observation) {
			o.Postgres.RewindFailed = true
			o.Settings.RecloneOnRewindFailure = true
		}), []Kind{StopPostgres, Reclone}, "diverged"},
		{"diverged replica whose rewind failed needs attention otherwise", with(replicaOf("a"), forkedAt(1000), func(o *Observation) {
			o.Postgres.Running, o.Postgres.RewindFailed = false, true
		}), []Kind{NeedsAttention}, "re-clone is not allowed"},
		{"replica on an older timeline, not past the fork, keeps following", with(replicaOf("a"), forkedAt(900)),
			[]Kind{Wait}, "replica of a"},
		{"replica on the leader's timeline: nothing compared", with(replicaOf("a"), forkedAt(1000), func(o *Observation) { o.Fork.Timeline = 2 }),
			[]Kind{Wait}, "replica of a"},
		{"replica on a timeline the leader's history lacks rewinds", with(replicaOf("a"), forkedAt(1000), func(o *Observation) {
			o.Fork.History = []TimelineSwitch{{Parent: 2, Switchpoint: 500}}
			o.Fork.LeaderTimeline = 3
		}), []Kind{StopPostgres, Rewind}, "not in a's history"},
		{"stopped former primary that diverged keeps its own rewind path", with(replicaOf("a"), forkedAt(1000), func(o *Observation) {
			o.Postgres.Running, o.Postgres.WasPrimary = false, true
		}), []Kind{Rewind}, "former primary"},
		{"replica drops a stale primary label", with(replicaOf("a"), func(o *Observation) { o.Label = leaderelect.RolePrimary }),
			[]Kind{Label}, ""},

		// Postgres running but not answering (issue 13, item 3): never
		// treated as stopped.
		{"unanswering former primary is not started as a replica", with(replicaOf("a"), func(o *Observation) {
			o.Postgres.Running, o.Postgres.Unresponsive, o.Postgres.WasPrimary = false, true, true
		}), []Kind{Wait}, "not answering"},
		{"unanswering postgres of a fresh leader: keep the lock, start nothing", with(leaderNow(), func(o *Observation) {
			o.Postgres.Running, o.Postgres.Unresponsive, o.Postgres.WasPrimary = false, true, false
			o.View.LastRenewal = t0.Add(-6 * time.Second)
		}), []Kind{RenewLock}, "not answering"},
		{"unanswering postgres of a stale leader is stopped", with(leaderNow(), func(o *Observation) {
			o.Postgres.Running, o.Postgres.Unresponsive = false, true
			o.View.LastRenewal = t0.Add(-8 * time.Second)
		}), []Kind{Demote, RenewLock}, "renew deadline passed"},
		{"unanswering member does not run for election", with(orphan(), func(o *Observation) {
			o.Postgres.Running, o.Postgres.Unresponsive = false, true
		}), []Kind{Wait}, "not answering"},
		{"unanswering member stopping is stopped", with(replicaOf("a"), func(o *Observation) {
			o.Postgres.Running, o.Postgres.Unresponsive, o.Stopping = false, true, true
		}), []Kind{StopPostgres, Exit}, "shutting down"},

		// Election.
		{"best live candidate races", orphan(), promote, "racing"},
		{"WAL on an older timeline does not hold back the newest timeline", with(orphan(), func(o *Observation) {
			o.Postgres.Timeline = 3
			o.Peers["c"] = Peer{Reachable: true, Running: true, Role: leaderelect.RoleReplica, Timeline: 1, ReceivedLSN: 1 << 30, ReplayedLSN: 1 << 30}
		}), promote, "racing"},
		{"WAL on a newer timeline does", with(orphan(), func(o *Observation) {
			o.Peers["c"] = Peer{Reachable: true, Running: true, Role: leaderelect.RoleReplica, NoFailover: true, Timeline: 2, ReceivedLSN: 1 << 30, ReplayedLSN: 1 << 30}
		}), []Kind{Wait}, "behind the best live member"},
		{"lock held 1ms short of ttl: no race", with(orphan(), func(o *Observation) { o.View.Lock.ObservedAt = t0.Add(-10*time.Second + time.Millisecond) }),
			[]Kind{Wait}, "replica of a"},
		{"released lock: race at once", with(orphan(), func(o *Observation) { o.View.Lock.Holder = ""; o.View.Lock.ObservedAt = t0 }),
			promote, ""},
		{"proof of death: race before the ttl", with(orphan(), func(o *Observation) {
			o.View.Lock.ObservedAt = t0.Add(-time.Second)
			o.HolderDead = true
		}), promote, "racing"},
		{"failsafe grant keeps the expired lock live", with(orphan(), func(o *Observation) { o.FailsafeGranted = t0.Add(-time.Second) }),
			[]Kind{Wait}, "replica of a"},
		{"peer ahead: wait", with(orphan(), func(o *Observation) {
			o.Peers["c"] = Peer{Reachable: true, Running: true, Role: leaderelect.RoleReplica, Timeline: 1, ReceivedLSN: 1001}
		}), []Kind{Wait}, "c ranks ahead"},
		{"tie broken by priority", with(orphan(), func(o *Observation) {
			o.Peers["c"] = Peer{Reachable: true, Running: true, Role: leaderelect.RoleReplica, Timeline: 1, ReceivedLSN: 1000, ReplayedLSN: 1000, FailoverPriority: 1}
		}), []Kind{Wait}, "c ranks ahead"},
		{"tie broken by name", with(orphan(), func(o *Observation) {
			o.Peers["c"] = Peer{Reachable: true, Running: true, Role: leaderelect.RoleReplica, Timeline: 1, ReceivedLSN: 1000, ReplayedLSN: 1000}
		}), promote, ""},
		{"unreachable peer ahead does not block", with(orphan(), func(o *Observation) {
			o.Peers["c"] = Peer{Reachable: false, ReceivedLSN: 5000}
		}), promote, ""},
		{"nofailover peer ahead does not outrank but caps lag", with(orphan(), func(o *Observation) {
			o.Peers["c"] = Peer{Reachable: true, Running: true, Role: leaderelect.RoleReplica, Timeline: 1, ReceivedLSN: 1000 + 2<<20, NoFailover: true}
		}), []Kind{Wait}, "bytes behind the best live member"},
		{"nofailover peer slightly ahead: race", with(orphan(), func(o *Observation) {
			o.Peers["c"] = Peer{Reachable: true, Running: true, Role: leaderelect.RoleReplica, Timeline: 1, ReceivedLSN: 2000, NoFailover: true}
		}), promote, ""},
		{"nofailover member never races", with(orphan(), func(o *Observation) { o.Settings.NoFailover = true }),
			[]Kind{Wait}, "nofailover"},
		{"sync mode: member outside the set never races", with(orphan(), func(o *Observation) {
			o.Settings.SyncMode = SyncOn
			o.View.State.Sync = leaderelect.SyncState{Leader: "a", Members: []string{"c"}}
		}), []Kind{Wait}, "synchronous set"},
		{"sync mode: member of the set races past a non-sync peer ahead", with(orphan(), func(o *Observation) {
			o.Settings.SyncMode = SyncOn
			o.View.State.Sync = leaderelect.SyncState{Leader: "a", Members: []string{"b"}}
			o.Peers["c"] = Peer{Reachable: true, Running: true, Role: leaderelect.RoleReplica, Timeline: 1, ReceivedLSN: 1500}
		}), promote, ""},
		{"peer reporting it leads blocks the race", with(orphan(), func(o *Observation) {
			o.Peers["a"] = Peer{Reachable: true, Running: true, Role: leaderelect.RolePrimary, Leading: true}
		}), []Kind{Wait}, "reports it leads"},
		{"stopped member starts read-only before racing", with(orphan(), func(o *Observation) { o.Postgres.Running = false }),
			[]Kind{StartReplica}, "election"},
		{"failover intent to another member: wait", with(orphan(), func(o *Observation) {
			o.View.State.Switchover = &leaderelect.Switchover{To: "c", Failover: true}
		}), []Kind{Wait}, "failover requested to c"},
		{"failover intent to self overrides ranking", with(orphan(), func(o *Observation) {
			o.View.State.Switchover = &leaderelect.Switchover{To: "b", Failover: true}
			o.Peers["c"] = Peer{Reachable: true, Running: true, Role: leaderelect.RoleReplica, Timeline: 1, ReceivedLSN: 1001}
		}), []Kind{AcquireLock, FenceOthers, Promote, Checkpoint, Label, ClearSwitchover, RecordHistory}, ""},

		// Switchover and graceful stop.
		{"switchover to a live replica", with(leaderNow(), func(o *Observation) {
			o.View.State.Switchover = &leaderelect.Switchover{From: "a", To: "c"}
		}), []Kind{StopPostgres, AwaitCandidate, HandOver}, "switchover to c"},
		{"switchover without candidate picks the best", with(leaderNow(), func(o *Observation) {
			o.View.State.Switchover = &leaderelect.Switchover{From: "a"}
		}), []Kind{StopPostgres, AwaitCandidate, HandOver}, "switchover to b"},
		{"scheduled switchover waits", with(leaderNow(), func(o *Observation) {
			o.View.State.Switchover = &leaderelect.Switchover{To: "c", ScheduledAt: t0.Add(time.Minute)}
		}), []Kind{Wait}, ""},
		{"switchover to a dead member is dropped", with(leaderNow(), func(o *Observation) {
			o.View.State.Switchover = &leaderelect.Switchover{To: "c"}
			o.Peers["c"] = Peer{}
		}), []Kind{ClearSwitchover}, "no eligible"},
		{"switchover naming another leader is dropped", with(leaderNow(), func(o *Observation) {
			o.View.State.Switchover = &leaderelect.Switchover{From: "c", To: "b"}
		}), []Kind{ClearSwitchover}, ""},
		{"leader stopping hands over to the best replica", with(leaderNow(), func(o *Observation) { o.Stopping = true }),
			[]Kind{StopPostgres, AwaitCandidate, HandOver, Exit}, "handing the lock to b"},
		{"leader stopping alone releases", with(leaderNow(), func(o *Observation) { o.Stopping = true; o.Peers = nil }),
			[]Kind{StopPostgres, ReleaseLock, Exit}, "releasing"},
		{"replica stopping just stops", with(replicaOf("a"), func(o *Observation) { o.Stopping = true }),
			[]Kind{StopPostgres, Exit}, ""},

		// Pause.
		{"paused leader only renews", with(leaderNow(), func(o *Observation) {
			o.Settings.Paused = true
			o.View.LastRenewal = t0.Add(-6 * time.Second)
			o.Postgres.Running = false
			o.Postgres.Running = true
		}), []Kind{RenewLock}, "paused"},
		{"paused replica does not race", with(orphan(), func(o *Observation) { o.Settings.Paused = true }), []Kind{Wait}, "paused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.obs)
			if diff := cmp.Diff(tc.want, d.Kinds()); diff != "" {
				t.Fatalf("actions (-want +got):\n%s\nreason: %s\n%v", diff, d.Reason, d.Actions)
			}
			if !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("reason %q does not mention %q", d.Reason, tc.reason)
			}
			for _, a := range d.Actions {
				if a.Reason == "" {
					t.Errorf("action %v has no reason", a)
				}
			}
			if again := Decide(tc.obs); !cmp.Equal(d, again) {
				t.Fatal("Decide is not deterministic")
			}
		})
	}
}

// forkedAt makes "b" a member on timeline 1 at pos, and a (the leader) on
// timeline 2, which forked off timeline 1 at 900.
func forkedAt(pos uint64) func(*Observation) {
	return func(o *Observation) {
		o.Postgres.Streaming = false
		o.Fork = Fork{Leader: "a", Timeline: 1, Position: pos, LeaderTimeline: 2,
			History: []TimelineSwitch{{Parent: 1, Switchpoint: 900}}}
	}
}
