package api

import (
	"time"

	"github.com/tenure-pg/tenure/internal/lsn"
	"github.com/tenure-pg/tenure/leaderelect"
)

// PatroniVersion is the Patroni release whose REST API this package
// follows. It is reported as patroni.version because tools written for
// Patroni (patronictl, check_patroni) gate features on it; Tenure's own
// version is tenure.version.
const PatroniVersion = "4.0.0"

// Status is the document of GET /patroni and of every health check: Patroni's
// fields, plus Tenure's in Tenure.
type Status struct {
	State               string `json:"state"`
	PostmasterStartTime string `json:"postmaster_start_time,omitempty"`
	// Role is "primary" or "replica"; empty while postgres is down.
	Role          string `json:"role,omitempty"`
	ServerVersion int    `json:"server_version,omitempty"`
	// XLog is {"location"} on a primary and {"received_location",
	// "replayed_location", "paused"} on a replica.
	XLog             *XLog             `json:"xlog,omitempty"`
	ReplicationState string            `json:"replication_state,omitempty"`
	SyncStandby      bool              `json:"sync_standby,omitempty"`
	Timeline         int64             `json:"timeline,omitempty"`
	Replication      []Replication     `json:"replication,omitempty"`
	Pause            bool              `json:"pause,omitempty"`
	ClusterUnlocked  bool              `json:"cluster_unlocked"`
	DCSLastSeen      int64             `json:"dcs_last_seen,omitempty"`
	SystemIdentifier string            `json:"database_system_identifier,omitempty"`
	PendingRestart   bool              `json:"pending_restart,omitempty"`
	Tags             *leaderelect.Tags `json:"tags,omitempty"`
	Patroni          PatroniInfo       `json:"patroni"`
	Tenure           TenureInfo        `json:"tenure"`
}

// XLog is Patroni's WAL position object. Fields are pointers so that a
// zero position is still shown where it belongs and absent elsewhere.
type XLog struct {
	Location         *uint64 `json:"location,omitempty"`
	ReceivedLocation *uint64 `json:"received_location,omitempty"`
	ReplayedLocation *uint64 `json:"replayed_location,omitempty"`
	Paused           *bool   `json:"paused,omitempty"`
}

// Replication is one entry of Patroni's "replication" list.
type Replication struct {
	User         string `json:"usename,omitempty"`
	Name         string `json:"application_name"`
	ClientAddr   string `json:"client_addr,omitempty"`
	State        string `json:"state"`
	SyncState    string `json:"sync_state"`
	SyncPriority int    `json:"sync_priority"`
}

// PatroniInfo is Patroni's "patroni" object.
type PatroniInfo struct {
	Version string `json:"version"`
	Scope   string `json:"scope"`
	Name    string `json:"name"`
}

// TenureInfo is what peers rank failover candidates by, with every field
// always present: exact WAL positions as integers (whatever the role), the
// lease as this member sees it, and its failover tags.
type TenureInfo struct {
	Version          string `json:"version"`
	Running          bool   `json:"running"`
	ReceivedLSN      uint64 `json:"received_lsn"`
	ReplayedLSN      uint64 `json:"replayed_lsn"`
	FlushedLSN       uint64 `json:"flushed_lsn"`
	Epoch            int64  `json:"epoch"`
	LockHolder       string `json:"lock_holder"`
	Leading          bool   `json:"leading"`
	FailoverPriority int    `json:"failover_priority"`
	NoFailover       bool   `json:"nofailover"`
	NoSync           bool   `json:"nosync"`
	// Archive is the WAL archive's state (omitted when archiving is off).
	Archive *ArchiveInfo `json:"archive,omitempty"`
	// ConfigError says what of the stored dynamic configuration is not
	// applied and why (omitted when all of it is).
	ConfigError string `json:"config_error,omitempty"`
}

// postmasterTimeLayout is how Patroni prints pg_postmaster_start_time().
const postmasterTimeLayout = "2006-01-02 15:04:05.999999-07:00"

// statusOf builds the Status document for s.
func statusOf(s Snapshot, version string) Status {
	pg := s.Postgres
	st := Status{
		State:            s.State,
		Role:             string(s.Role),
		ServerVersion:    pg.ServerVersion,
		Timeline:         pg.Timeline,
		Pause:            s.Paused,
		ClusterUnlocked:  s.View.Lock.Holder == "",
		SystemIdentifier: pg.SystemID,
		PendingRestart:   pg.PendingRestart,
		Patroni:          PatroniInfo{Version: PatroniVersion, Scope: s.Cluster, Name: s.Member},
		Tenure: TenureInfo{
			Version:          version,
			Running:          pg.Running,
			ReceivedLSN:      uint64(pg.ReceivedLSN),
			ReplayedLSN:      uint64(pg.ReplayedLSN),
			FlushedLSN:       uint64(pg.FlushedLSN),
			Epoch:            s.View.Lock.Epoch,
			LockHolder:       s.View.Lock.Holder,
			Leading:          s.Leading,
			FailoverPriority: s.Tags.FailoverPriority,
			NoFailover:       s.Tags.NoFailover,
			NoSync:           s.Tags.NoSync,
			Archive:          s.Archive,
			ConfigError:      s.ConfigError,
		},
	}
	if !pg.PostmasterStart.IsZero() {
		st.PostmasterStartTime = pg.PostmasterStart.Format(postmasterTimeLayout)
	}
	if !s.DCSLastSeen.IsZero() {
		st.DCSLastSeen = s.DCSLastSeen.Unix()
	}
	if s.Tags != (leaderelect.Tags{}) {
		tags := s.Tags
		st.Tags = &tags
	}
	st.XLog = xlogOf(s)
	if s.Role == leaderelect.RoleReplica {
		st.ReplicationState = pg.ReceiverState
		st.SyncStandby = isSyncStandby(s)
	}
	for _, r := range pg.Replication {
		st.Replication = append(st.Replication, Replication{
			User: r.User, Name: r.Name, ClientAddr: r.ClientAddr,
			State: r.State, SyncState: r.SyncState, SyncPriority: r.SyncPriority,
		})
	}
	return st
}

// xlogOf is Patroni's xlog object for s's role; nil while postgres is
// down.
func xlogOf(s Snapshot) *XLog {
	pg := s.Postgres
	switch s.Role {
	case leaderelect.RolePrimary:
		return &XLog{Location: ptr(uint64(pg.FlushedLSN))}
	case leaderelect.RoleReplica:
		return &XLog{
			ReceivedLocation: ptr(uint64(pg.ReceivedLSN)),
			ReplayedLocation: ptr(uint64(pg.ReplayedLSN)),
			Paused:           ptr(pg.ReplayPaused),
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// isSyncStandby reports whether s is a replica in the published
// synchronous set.
func isSyncStandby(s Snapshot) bool {
	sync := s.View.State.Sync
	return s.Role == leaderelect.RoleReplica && sync.Leader != s.Member && sync.Contains(s.Member)
}

// leaderLSN is the newest WAL position of the leader known here: the
// larger of what the lock holder published in its heartbeat (a primary
// publishes its flush position as FlushedLSN) and what this replica's WAL
// receiver last heard from upstream. Zero when neither is known.
func leaderLSN(s Snapshot) lsn.LSN {
	var pos lsn.LSN
	if m, ok := s.View.Members[s.View.Lock.Holder]; ok && s.View.Lock.Holder != "" {
		pos = lsn.LSN(m.FlushedLSN)
	}
	return max(pos, s.Postgres.LatestEndLSN)
}

// replayLag is how far this member's replay is behind the leader, in
// bytes; zero when the leader's position is unknown.
func replayLag(s Snapshot) uint64 {
	return leaderLSN(s).Sub(s.Postgres.ReplayedLSN)
}

// loopAge is how long ago the HA loop last completed.
func loopAge(s Snapshot) time.Duration {
	if s.LoopAt.IsZero() {
		return time.Duration(1<<63 - 1)
	}
	return s.Now.Sub(s.LoopAt)
}
