package leaderelect

import (
	"slices"
	"time"
)

// Lock is the leader lock record as stored.
type Lock struct {
	// Holder is the member holding the lock; empty when released.
	Holder string
	// TTL is how long the holder may go without renewing, as advertised by
	// the holder. Observers use it; they never look at timestamps below.
	TTL time.Duration
	// Epoch counts changes of holder (the Lease's leaseTransitions). It
	// increases with every acquire and hand-over and never goes back.
	Epoch int64
	// AcquiredAt and RenewedAt are the holder's wall clock, for humans only.
	AcquiredAt time.Time
	RenewedAt  time.Time
}

// LockView is the lock as observed by one member.
type LockView struct {
	Lock
	// Exists is false until the lock record has been created.
	Exists bool
	// ObservedAt is when this member last saw the record change, on its own
	// clock. For a write of its own it is the moment the write was sent.
	ObservedAt time.Time
}

// Expired reports whether the lock is free to take as seen from here at
// now: released, never created, or unchanged for a full TTL since this
// member observed it.
func (l LockView) Expired(now time.Time) bool {
	if !l.Exists || l.Holder == "" {
		return true
	}
	return now.Sub(l.ObservedAt) >= l.TTL
}

// Role of a member's postgres.
type Role string

const (
	RolePrimary Role = "primary"
	RoleReplica Role = "replica"
	RoleNone    Role = ""
)

// Tags are a member's static preferences for failover.
type Tags struct {
	NoFailover       bool `json:"nofailover,omitempty"`
	NoSync           bool `json:"nosync,omitempty"`
	FailoverPriority int  `json:"failover_priority,omitempty"`
}

// MemberStatus is what a member publishes about itself in its heartbeat.
// LSNs are byte positions (pg_lsn as an integer).
type MemberStatus struct {
	Name           string `json:"name"`
	Role           Role   `json:"role,omitempty"`
	State          string `json:"state,omitempty"`
	Timeline       int64  `json:"timeline,omitempty"`
	ReceivedLSN    uint64 `json:"received_lsn,omitempty"`
	ReplayedLSN    uint64 `json:"replayed_lsn,omitempty"`
	FlushedLSN     uint64 `json:"flushed_lsn,omitempty"`
	APIURL         string `json:"api_url,omitempty"`
	ConnURL        string `json:"conn_url,omitempty"`
	PendingRestart bool   `json:"pending_restart,omitempty"`
	Tags           Tags   `json:"tags,omitempty"`
	// UpdatedAt is the member's wall clock at the write; informational.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// sameButProgress reports whether a and b differ at most in WAL positions
// and UpdatedAt: the fields that move on a busy but otherwise steady member.
func (a MemberStatus) sameButProgress(b MemberStatus) bool {
	a.ReceivedLSN, a.ReplayedLSN, a.FlushedLSN, a.UpdatedAt = 0, 0, 0, time.Time{}
	b.ReceivedLSN, b.ReplayedLSN, b.FlushedLSN, b.UpdatedAt = 0, 0, 0, time.Time{}
	return a == b
}

// MemberView is a member's heartbeat as observed by this member.
type MemberView struct {
	MemberStatus
	// ObservedAt is when this member last saw the heartbeat change.
	ObservedAt time.Time
}

// Config is the cluster's dynamic configuration (Patroni's names).
type Config struct {
	TTLSeconds           int               `json:"ttl,omitempty"`
	LoopWaitSeconds      int               `json:"loop_wait,omitempty"`
	RetryTimeoutSeconds  int               `json:"retry_timeout,omitempty"`
	MaximumLagOnFailover int64             `json:"maximum_lag_on_failover,omitempty"`
	SynchronousMode      string            `json:"synchronous_mode,omitempty"`
	SynchronousNodeCount int               `json:"synchronous_node_count,omitempty"`
	FailsafeMode         bool              `json:"failsafe_mode,omitempty"`
	Paused               bool              `json:"pause,omitempty"`
	Parameters           map[string]string `json:"parameters,omitempty"`
	// StandbyCluster overrides the agents' standby-cluster setting (their
	// --standby-of flag): false promotes a standby cluster's leader, for
	// good, making the cluster independent of its source; nil leaves the
	// flag in charge.
	StandbyCluster *bool `json:"standby_cluster,omitempty"`
}

// Switchover is a requested change of leader. With ScheduledAt zero it is
// due at once. Failover requests (no healthy leader required) set Failover.
type Switchover struct {
	From        string    `json:"from,omitempty"`
	To          string    `json:"to,omitempty"`
	ScheduledAt time.Time `json:"scheduled_at,omitzero"`
	Failover    bool      `json:"failover,omitempty"`
}

// SyncState is the published synchronous-standby set: the members that may
// hold every acknowledged commit, and so the only ones allowed to promote
// in synchronous mode.
type SyncState struct {
	Leader  string   `json:"leader,omitempty"`
	Members []string `json:"members,omitempty"`
}

// Contains reports whether member is in the published set.
func (s SyncState) Contains(member string) bool {
	return slices.Contains(s.Members, member)
}

// HistoryEntry records one change of leader (Patroni's /history).
type HistoryEntry struct {
	Timeline int64     `json:"timeline"`
	LSN      uint64    `json:"lsn"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
	Leader   string    `json:"leader"`
}

// State is the cluster-wide record (one ConfigMap in Kubernetes).
type State struct {
	Config Config `json:"config"`
	// Initialize is the system identifier of the cluster, written exactly
	// once by the member that won the bootstrap race.
	Initialize string         `json:"initialize,omitempty"`
	Switchover *Switchover    `json:"switchover,omitempty"`
	Sync       SyncState      `json:"sync"`
	History    []HistoryEntry `json:"history,omitempty"`
}

func (s State) clone() State {
	out := s
	if s.Config.Parameters != nil {
		out.Config.Parameters = make(map[string]string, len(s.Config.Parameters))
		for k, v := range s.Config.Parameters {
			out.Config.Parameters[k] = v
		}
	}
	if s.Switchover != nil {
		sw := *s.Switchover
		out.Switchover = &sw
	}
	out.Sync.Members = slices.Clone(s.Sync.Members)
	out.History = slices.Clone(s.History)
	return out
}

// ClusterView is one member's consistent snapshot of the cluster.
type ClusterView struct {
	Cluster string
	// Self is the member this view belongs to.
	Self string
	Lock LockView
	// LastRenewal is when Self sent its last successful write of the lock
	// while holding it, on Self's clock; zero when Self has not written it
	// since it last became holder.
	LastRenewal time.Time
	// RenewDeadline is Self's renew deadline (Options.RenewDeadline).
	RenewDeadline time.Duration
	// Members by name, Self included once it has published.
	Members map[string]MemberView
	State   State
	// StateExists is false until the cluster record has been created.
	StateExists bool
}

// Leading reports whether Self holds the lock and renewed it recently
// enough to act as primary at now. It turns false RenewDeadline after the
// last successful renewal was sent, which is TTL-RenewDeadline before any
// other member can observe the lock as expired.
func (v ClusterView) Leading(now time.Time) bool {
	if v.Lock.Holder != v.Self || v.LastRenewal.IsZero() {
		return false
	}
	return now.Sub(v.LastRenewal) < v.RenewDeadline
}

// MemberNames returns the names of the members with a heartbeat, sorted.
func (v ClusterView) MemberNames() []string {
	names := make([]string, 0, len(v.Members))
	for n := range v.Members {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
