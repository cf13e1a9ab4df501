package ha

import (
	"time"

	"github.com/tenure-pg/tenure/leaderelect"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func settings() Settings {
	return Settings{TTL: 10 * time.Second, RenewDeadline: 7 * time.Second, RetryPeriod: 5 * time.Second,
		MaximumLagOnFailover: 1 << 20, SyncMode: SyncOff, InPod: true}
}

// replicaOf builds the observation of member "b" streaming from holder.
func replicaOf(holder string) Observation {
	return Observation{
		Now:  t0,
		Self: "b",
		View: leaderelect.ClusterView{
			Self: "b", RenewDeadline: 7 * time.Second,
			Lock:    leaderelect.LockView{Lock: leaderelect.Lock{Holder: holder, TTL: 10 * time.Second, Epoch: 3}, Exists: true, ObservedAt: t0.Add(-time.Second)},
			Members: map[string]leaderelect.MemberView{"a": {}, "b": {}, "c": {}},
			State:   leaderelect.State{Initialize: "7000"},
		},
		Postgres: Postgres{Dir: DirInitialized, SystemID: "7000", Running: true, InRecovery: true, Timeline: 1,
			ReceivedLSN: 1000, ReplayedLSN: 1000, Following: holder, Streaming: true},
		Settings: settings(),
		Label:    leaderelect.RoleReplica,
	}
}

// leaderNow builds the observation of "a", the fresh leader.
func leaderNow() Observation {
	o := replicaOf("a")
	o.Self, o.View.Self = "a", "a"
	o.View.LastRenewal = t0.Add(-time.Second)
	o.Postgres = Postgres{Dir: DirInitialized, SystemID: "7000", WasPrimary: true, Running: true, Timeline: 1, FlushedLSN: 1000,
		StreamingReplicas: []string{"b", "c"}, Slots: []string{"b", "c"}}
	o.Label = leaderelect.RolePrimary
	o.Peers = map[string]Peer{
		"b": {Reachable: true, Running: true, Role: leaderelect.RoleReplica, Timeline: 1, ReceivedLSN: 1000, ReplayedLSN: 1000},
		"c": {Reachable: true, Running: true, Role: leaderelect.RoleReplica, Timeline: 1, ReceivedLSN: 900, ReplayedLSN: 900},
	}
	return o
}

// orphan is "b" after the lock expired, with live peers a (dead) and c.
func orphan() Observation {
	o := replicaOf("a")
	o.View.Lock.ObservedAt = t0.Add(-11 * time.Second)
	o.Peers = map[string]Peer{
		"a": {Reachable: false},
		"c": {Reachable: true, Running: true, Role: leaderelect.RoleReplica, Timeline: 1, ReceivedLSN: 900, ReplayedLSN: 900},
	}
	return o
}

func with(o Observation, edits ...func(*Observation)) Observation {
	for _, e := range edits {
		e(&o)
	}
	return o
}
