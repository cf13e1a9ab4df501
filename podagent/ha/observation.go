package ha

import (
	"time"

	"github.com/tenure-pg/tenure/leaderelect"
)

// DirState is what the data directory holds.
type DirState int

const (
	DirMissing     DirState = iota // no directory
	DirEmpty                       // an empty directory
	DirInitialized                 // a PostgreSQL data directory
	DirOther                       // something else: never touched
)

// Postgres is the observed state of this member's postgres.
type Postgres struct {
	Dir DirState
	// SystemID is the data directory's system identifier (pg_controldata);
	// empty when not initialized.
	SystemID string
	// WasPrimary is true when the data directory was last a primary
	// (control state "in production" or "shut down", not "... in
	// recovery"): it may have diverged from a newer leader and must be
	// rewound before it follows one.
	WasPrimary bool
	Running    bool
	// Unresponsive: postgres runs but its status query failed (starting
	// up, shutting down, overloaded). Its role and position are unknown,
	// so it is neither Running nor stopped: nothing that assumes either
	// (start, rewind, clone, promote) may act on it.
	Unresponsive bool
	InRecovery   bool
	Timeline     int64
	// WAL positions: for a primary, FlushedLSN is its flush position; for
	// a replica, ReceivedLSN and ReplayedLSN.
	ReceivedLSN uint64
	ReplayedLSN uint64
	FlushedLSN  uint64
	// Following is the member whose primary_conninfo this replica uses.
	Following string
	// Streaming is true while the WAL receiver streams.
	Streaming bool
	// SyncStandbys is the list of members in synchronous_standby_names as
	// applied on this server (primary only).
	SyncStandbys []string
	// StreamingReplicas are the members streaming from this primary, most
	// caught-up first, and ReplicaFlushed their flush positions
	// (pg_stat_replication).
	StreamingReplicas []string
	ReplicaFlushed    map[string]uint64
	// SyncAppliedLSN is the primary's flush position right after
	// synchronous_standby_names last changed (the executor records it; zero
	// when unknown, e.g. after an agent restart: then the current position).
	SyncAppliedLSN uint64
	// Slots are the physical replication slots on this server.
	Slots []string
	// RewindFailed is set once pg_rewind against the current leader has
	// failed for good (the executor remembers it until the leader changes).
	RewindFailed bool
	// Restoring: the data directory was restored from an archive to a
	// target (a clone) and its recovery is not finished off yet. Postgres
	// promotes itself on reaching the target; nobody may promote it
	// earlier, which would cut the recovery short.
	Restoring bool
	// RestoreShort says why a clone's recovery to latest did not reach
	// the end of its source archive (it promoted on a history cut short),
	// or why such a restore was abandoned: "" when neither. Only set
	// while Restoring.
	RestoreShort string
	// RecoveryAborted is why the last recovery of a clone's restore was
	// aborted (restore.AbortFile: the archive could not be read), "" if
	// none was. Postgres then stopped instead of promoting; it is started
	// again, since the archive may come back.
	RecoveryAborted string
}

// Position is the WAL position members are ranked by: what a member has
// received (a replica may have received more than it replayed), or a
// primary's flush position.
func (p Postgres) Position() uint64 {
	return max(p.ReceivedLSN, p.ReplayedLSN, p.FlushedLSN)
}

// Peer is another member's status as fetched over REST this loop.
type Peer struct {
	Reachable        bool
	Running          bool
	Role             leaderelect.Role
	Leading          bool
	Timeline         int64
	ReceivedLSN      uint64
	ReplayedLSN      uint64
	FlushedLSN       uint64
	NoFailover       bool
	FailoverPriority int
}

// Position is the peer's ranking position (see Postgres.Position).
func (p Peer) Position() uint64 { return max(p.ReceivedLSN, p.ReplayedLSN, p.FlushedLSN) }

// SyncMode is Patroni's synchronous_mode.
type SyncMode string

const (
	SyncOff    SyncMode = "off"
	SyncOn     SyncMode = "on"
	SyncStrict SyncMode = "strict"
)

// Settings are this member's and the cluster's HA settings.
type Settings struct {
	TTL           time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
	// MaximumLagOnFailover in bytes; 0 means no cap.
	MaximumLagOnFailover uint64
	SyncMode             SyncMode
	SyncNodeCount        int
	FailsafeMode         bool
	Paused               bool
	NoFailover           bool
	FailoverPriority     int
	// RecloneOnRewindFailure lets a member that cannot be rewound wipe its
	// data directory and clone the leader again.
	RecloneOnRewindFailure bool
	// InPod is false for local runs: no labels are managed.
	InPod bool
	// FromArchive: the bootstrap winner creates the cluster from another
	// cluster instead of running initdb: from its WAL archive (a clone, or
	// a standby cluster), or by copying its primary (a standby cluster
	// streaming from the source).
	FromArchive bool
	// StandbyCluster: the leader stays in recovery, replaying the source
	// cluster's archive, and its replicas stream from it. Turning it off
	// (the dynamic configuration) promotes the leader.
	StandbyCluster bool
}

// Observation is everything Decide needs, taken at one instant.
type Observation struct {
	Now      time.Time
	Self     string
	View     leaderelect.ClusterView
	Postgres Postgres
	// Peers by member name, fetched this loop. A member with a heartbeat
	// but no entry here, or with Reachable false, is not live.
	Peers    map[string]Peer
	Settings Settings
	// Label is the role label on this member's pod now ("" when none).
	Label leaderelect.Role
	// FailsafeConfirmed is when a majority of members last confirmed this
	// member as leader over REST while the API was unreachable (send time
	// of that round); zero when never.
	FailsafeConfirmed time.Time
	// FailsafeGranted is when this member last confirmed the current lock
	// holder over REST; while recent, it treats the lock as held.
	FailsafeGranted time.Time
	// Stopping is set once the agent was asked to shut down.
	Stopping bool
	// HolderDead is positive evidence that the lock holder cannot write:
	// the kubelet reports its postgres container not running, or its pod
	// is gone. It lets the others race without waiting for the TTL. Its
	// absence proves nothing.
	HolderDead bool
	// Fork sets this member's WAL against the leader's timeline history
	// when its timeline is older than the leader's (zero otherwise): every
	// member, not only a former primary, may hold WAL the leader lacks.
	Fork Fork
}
