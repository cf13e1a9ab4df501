package api

import (
	"context"
	"time"

	"github.com/tenure-pg/tenure/internal/lsn"
	"github.com/tenure-pg/tenure/leaderelect"
)

// Snapshot is everything the API reports, taken by the agent once per HA
// loop. It is a copy: the API holds no lock of the agent's while it reads it.
type Snapshot struct {
	// Member and Cluster name this member and its cluster (Patroni's name
	// and scope).
	Member  string
	Cluster string
	// Role is what postgres runs as now; RoleNone while it is down.
	Role leaderelect.Role
	// State is Patroni-like free text: "running", "starting", "stopped",
	// "crashed", "bootstrapping", "rewinding", "diverged" (WAL past the
	// leader's fork point), "needs attention"... Only
	// StateRunning counts as healthy.
	State string
	// Leading is ClusterView.Leading(Now): this member holds a fresh lease.
	// Only then is /primary 200.
	Leading  bool
	Postgres PostgresInfo
	// View is the cluster as this member observed it: peers' heartbeats,
	// the lock (holder, epoch), the dynamic config and the sync set.
	View leaderelect.ClusterView
	Tags leaderelect.Tags
	// Paused is the maintenance mode (Config.Paused).
	Paused bool
	// LoopAt is when the HA loop last completed; the agent sets it when it
	// starts too, so /liveness does not fail during the first loop.
	LoopAt time.Time
	// DCSLastSeen is when the agent last reached the Kubernetes API; zero
	// when unknown.
	DCSLastSeen time.Time
	// Now is when the snapshot was taken; ages are measured against it.
	Now time.Time
	// TTL is the lease TTL.
	TTL time.Duration
	// Archive is the WAL archive's state; nil when archiving is off.
	Archive *ArchiveInfo
	// ConfigError is why the stored dynamic configuration is not applied
	// in full (a parameter that does not render, an unknown
	// synchronous_mode); empty when it is. The agent keeps running with
	// what it can render.
	ConfigError string
}

// ArchiveInfo is the WAL archive's state: postgres's pg_stat_archiver
// (names, times, counts), the bytes and errors of the pushes the agent's
// WAL service made, and the backlog postgres waits on.
type ArchiveInfo struct {
	LastArchived   string `json:"last_archived_wal,omitempty"`
	LastArchivedAt string `json:"last_archived_time,omitempty"` // RFC 3339
	LastFailed     string `json:"last_failed_wal,omitempty"`
	LastFailedAt   string `json:"last_failed_time,omitempty"`
	LastError      string `json:"last_error,omitempty"`
	Archived       uint64 `json:"archived_count"`
	Failed         uint64 `json:"failed_count"`
	Fetched        uint64 `json:"fetched_count"`
	FetchFailed    uint64 `json:"fetch_failed_count"`
	ArchivedBytes  uint64 `json:"archived_bytes"`
	StoredBytes    uint64 `json:"stored_bytes"`
	// ReadyFiles and ReadyBytes are the archiving lag: files postgres has
	// marked ready that are not archived yet.
	ReadyFiles int    `json:"ready_files"`
	ReadyBytes uint64 `json:"ready_bytes"`
	// Backup is the scheduled base backups' state, when scheduled.
	Backup *BackupInfo `json:"backup,omitempty"`
}

// BackupInfo is the base backup schedule's state.
type BackupInfo struct {
	Schedule      string `json:"schedule"`
	LastBackup    string `json:"last_backup_id,omitempty"`
	LastSuccessAt string `json:"last_success_time,omitempty"`
	LastFailureAt string `json:"last_failure_time,omitempty"`
	LastError     string `json:"last_error,omitempty"`
	NextAt        string `json:"next_time,omitempty"`
	Running       bool   `json:"running"`
}

// StateRunning is the State of a healthy member.
const StateRunning = "running"

// PostgresInfo is what the agent observed of its postgres.
type PostgresInfo struct {
	Running  bool
	Timeline int64
	// FlushedLSN is pg_current_wal_flush_lsn() on a primary.
	FlushedLSN lsn.LSN
	// ReceivedLSN and ReplayedLSN are pg_last_wal_receive_lsn() and
	// pg_last_wal_replay_lsn() on a replica.
	ReceivedLSN lsn.LSN
	ReplayedLSN lsn.LSN
	// LatestEndLSN is pg_stat_wal_receiver.latest_end_lsn: the primary's
	// position as last reported to this replica's receiver (0 unknown). Lag
	// checks use the larger of it and the leader's published position, as
	// Patroni does, because the heartbeat is written at most every few
	// seconds.
	LatestEndLSN    lsn.LSN
	ReplayPaused    bool
	ServerVersion   int // 150004 for 15.4
	PostmasterStart time.Time
	PendingRestart  bool
	// Replication lists pg_stat_replication on a primary.
	Replication []ReplicationInfo
	// ReceiverState is pg_stat_wal_receiver.status ("streaming"...); empty
	// when there is no receiver.
	ReceiverState string
	SystemID      string
}

// ReplicationInfo is one row of pg_stat_replication.
type ReplicationInfo struct {
	Name         string // application_name
	User         string // usename
	State        string // "streaming", "catchup"...
	SyncState    string // "async", "sync", "quorum", "potential"
	SyncPriority int
	ClientAddr   string
}

// Source gives the latest Snapshot. It must not block.
type Source interface {
	Snapshot() Snapshot
}

// SwitchoverRequest asks for a change of leader. Leader, when set, must be
// the current lock holder; Candidate, when set, the member to promote.
// Failover requests need no healthy leader (and so no Leader).
type SwitchoverRequest struct {
	Leader      string
	Candidate   string
	ScheduledAt time.Time
	Failover    bool
}

// RestartRequest asks for a restart of this member's postgres, with
// Patroni's conditions: only when a restart is pending (PendingOnly), only
// when postgres runs as Role (RoleNone: any).
type RestartRequest struct {
	PendingOnly bool
	Role        leaderelect.Role
	// Timeout bounds the restart; zero leaves it to the agent.
	Timeout time.Duration
}

// Commands carries out what the API accepted. The agent implements it.
// Errors are classified with this package's sentinels (ErrBadRequest,
// ErrPrecondition, ErrConflict, ErrNotFound, ErrUnavailable), which the API
// turns into status codes; any other error is a 500.
type Commands interface {
	// Switchover records the intent. An unscheduled one returns once the
	// lock has moved (nil) or the attempt failed or ctx ended (error); a
	// scheduled one returns once recorded.
	Switchover(ctx context.Context, r SwitchoverRequest) error
	// CancelSwitchover removes a scheduled switchover; ErrNotFound when
	// there is none.
	CancelSwitchover(ctx context.Context) error
	// Restart restarts postgres and returns when it is up again. Unmet
	// conditions are ErrUnavailable (Patroni answers 503).
	Restart(ctx context.Context, r RestartRequest) error
	// Reload makes postgres and the agent re-read their configuration.
	Reload(ctx context.Context) error
	// Reinitialize wipes this replica's data and clones it again. force
	// cancels a task already running. A leader refuses with ErrUnavailable.
	Reinitialize(ctx context.Context, force bool) error
	// UpdateConfig applies fn to the cluster's dynamic configuration with
	// compare-and-swap (fn may run more than once) and returns the result.
	UpdateConfig(ctx context.Context, fn func(*leaderelect.Config) error) (leaderelect.Config, error)
}
