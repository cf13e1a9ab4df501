package podagent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/api"
	"github.com/tenure-pg/tenure/podagent/ha"
	"github.com/tenure-pg/tenure/podagent/pgctl"
	"github.com/tenure-pg/tenure/walarchive/restore"
)

// observe takes one observation. Errors become facts (postgres not
// running, peer unreachable): the decision deals with them.
func (a *Agent) observe(ctx context.Context) ha.Observation {
	now := a.clock.Now()
	v := a.store.View()
	o := ha.Observation{
		Now:      now,
		Self:     a.cfg.Member,
		View:     v,
		Settings: a.settings(v),
		Stopping: a.stopping.Load(),
	}
	o.Postgres = a.observePostgres(ctx, v)
	o.Fork = a.observeFork(ctx, o)
	if v.Lock.Holder != a.cfg.Member {
		o.HolderDead = holderDead(a.pods, a.cfg.Namespace, v.Lock.Holder)
	}
	if a.needPeers(o) {
		o.Peers = a.fetchPeers(ctx, v)
	}
	a.mu.Lock()
	o.Label = a.mem.label
	o.FailsafeConfirmed, o.FailsafeGranted = a.mem.failsafeConfirmed, a.mem.failsafeGranted
	a.mu.Unlock()
	return o
}

// settings merges the agent's configuration with the cluster's dynamic
// configuration (which wins where set).
func (a *Agent) settings(v leaderelect.ClusterView) ha.Settings {
	c := a.cfg
	s := ha.Settings{
		TTL: c.TTL, RenewDeadline: c.RenewDeadline, RetryPeriod: c.RetryPeriod,
		MaximumLagOnFailover: c.MaximumLagOnFailover, SyncMode: c.SyncMode, SyncNodeCount: c.SyncNodeCount,
		FailsafeMode: c.FailsafeMode, NoFailover: c.Tags.NoFailover, FailoverPriority: c.Tags.FailoverPriority,
		RecloneOnRewindFailure: c.RecloneOnRewindFailure, InPod: a.kube != nil,
		FromArchive: c.Archive.Source != nil || c.Archive.StandbyCluster && c.Archive.StandbyHost != "",
	}
	dyn := v.State.Config
	s.StandbyCluster = c.Archive.StandbyCluster && (dyn.StandbyCluster == nil || *dyn.StandbyCluster)
	s.Paused = dyn.Paused
	if dyn.MaximumLagOnFailover > 0 {
		s.MaximumLagOnFailover = uint64(dyn.MaximumLagOnFailover)
	}
	if m, err := ha.ParseSyncMode(dyn.SynchronousMode); err == nil && dyn.SynchronousMode != "" {
		s.SyncMode = m // unparsable: keep --sync-mode (reported by checkDynamicConfig)
	}
	if dyn.SynchronousNodeCount > 0 {
		s.SyncNodeCount = dyn.SynchronousNodeCount
	}
	return s
}

func (a *Agent) observePostgres(ctx context.Context, v leaderelect.ClusterView) ha.Postgres {
	var p ha.Postgres
	dir, err := a.pg.DataDirState()
	if err != nil {
		a.log.Warn("inspect data directory", "error", err)
		p.Dir = ha.DirOther
		return p
	}
	p.Dir = map[pgctl.DirState]ha.DirState{
		pgctl.DirMissing: ha.DirMissing, pgctl.DirEmpty: ha.DirEmpty,
		pgctl.DirInitialized: ha.DirInitialized, pgctl.DirOther: ha.DirOther,
	}[dir]
	if p.Dir != ha.DirInitialized {
		return p
	}
	if p.Restoring, err = restore.HasRecoverySettings(a.cfg.DataDir); err != nil {
		a.log.Warn("inspect recovery settings", "error", err)
	}
	if p.Restoring {
		p.RestoreShort = abandonedRestore(a.cfg.DataDir)
		p.RecoveryAborted = restore.ReadAbort(a.cfg.DataDir)
	}
	running := a.pg.Running()
	a.mu.Lock()
	p.SystemID = a.mem.sysid
	a.mem.restoring = p.Restoring
	p.RewindFailed = a.mem.rewindFailedFor != "" && a.mem.rewindFailedFor == v.Lock.Holder
	p.SyncAppliedLSN = a.mem.syncAppliedLSN
	p.Following = a.mem.following
	a.mu.Unlock()
	if p.SystemID == "" || !running {
		if !a.readControlData(ctx, &p, v) {
			p.Dir = ha.DirOther
			return p
		}
	}
	if !running {
		return p
	}
	st, err := a.pg.Status(ctx)
	if err != nil {
		// Neither running nor stopped: a postgres shutting down (the
		// guard stopping it, say) fails the query too, and acting on it
		// as stopped skipped the rewind of a former primary (issue 13).
		// The control data says what it last was.
		a.log.Warn("query postgres", "error", err)
		p.Unresponsive = true
		a.readControlData(ctx, &p, v)
		return p
	}
	p.Running = true
	a.mu.Lock()
	a.mem.pgStatus = st
	a.mu.Unlock()
	fillStatus(&p, st, a.cfg.Member)
	if p.Restoring && !p.InRecovery && p.RestoreShort == "" {
		p.RestoreShort = restoreShort(a.cfg.DataDir, p.Timeline, a.log)
	}
	// Only the lock holder keeps slots for the others: a primary, or a
	// standby cluster's leader, which is in recovery.
	if !st.InRecovery || v.Lock.Holder == a.cfg.Member {
		if p.Slots, err = a.pg.Slots(ctx); err != nil {
			a.log.Warn("list replication slots", "error", err)
		}
	}
	return p
}

// readControlData fills the system identifier, timeline and WasPrimary
// from pg_controldata; false when it cannot be read.
func (a *Agent) readControlData(ctx context.Context, p *ha.Postgres, v leaderelect.ClusterView) bool {
	cd, err := a.pg.Controldata(ctx)
	if err != nil {
		a.log.Warn("read control data", "error", err)
		return false
	}
	p.SystemID, p.Timeline = cd.SystemID, int64(cd.Timeline)
	p.WasPrimary = a.wasPrimary(cd, v.Lock.Holder)
	a.mu.Lock()
	a.mem.sysid = cd.SystemID
	a.mu.Unlock()
	return true
}

// wasPrimary reports whether the data directory may hold WAL the leader
// lacks: it was last a primary ("in production" or "shut down"), it is not
// a fresh copy (pg_basebackup and pg_rewind leave a backup_label), and it
// was not already rewound onto this leader.
func (a *Agent) wasPrimary(cd pgctl.Controldata, leader string) bool {
	if strings.Contains(cd.State, "recovery") {
		return false
	}
	if _, err := os.Stat(filepath.Join(a.pg.DataDir(), "backup_label")); err == nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.mem.rewoundFor == "" || a.mem.rewoundFor != leader
}

// fillStatus copies what pg_stat_* said into the observation.
func fillStatus(p *ha.Postgres, st pgctl.Status, self string) {
	p.InRecovery, p.Timeline = st.InRecovery, int64(st.Timeline)
	if st.InRecovery {
		p.ReceivedLSN, p.ReplayedLSN = uint64(st.ReceivedLSN), uint64(st.ReplayedLSN)
		p.Streaming = st.Receiver != nil && st.Receiver.Status == "streaming"
		return
	}
	p.FlushedLSN = uint64(st.FlushLSN)
	p.SyncStandbys = parseSyncNames(st.SyncStandbyNames)
	p.ReplicaFlushed = map[string]uint64{}
	for _, r := range sortedReplicas(st.Replication) {
		if r.ApplicationName == self || r.State != "streaming" {
			continue
		}
		p.StreamingReplicas = append(p.StreamingReplicas, r.ApplicationName)
		p.ReplicaFlushed[r.ApplicationName] = uint64(r.FlushLSN)
	}
}

// needPeers reports whether this decision may need peers' status: an
// election, a hand-over, or a switchover.
func (a *Agent) needPeers(o ha.Observation) bool {
	v := o.View
	if v.Lock.Holder == a.cfg.Member {
		return o.Stopping || v.State.Switchover != nil
	}
	return v.Lock.Expired(o.Now) || o.HolderDead
}

// fetchPeers asks every other member with a heartbeat for its status, in
// parallel, each bounded by the HTTP client's timeout.
func (a *Agent) fetchPeers(ctx context.Context, v leaderelect.ClusterView) map[string]ha.Peer {
	out := map[string]ha.Peer{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, m := range v.Members {
		if name == a.cfg.Member || m.APIURL == "" {
			continue
		}
		wg.Go(func() {
			p := ha.Peer{}
			if st, err := api.Fetch(ctx, a.http, m.APIURL); err == nil {
				p = peerOf(st)
			}
			mu.Lock()
			out[name] = p
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

func peerOf(st api.Status) ha.Peer {
	t := st.Tenure
	return ha.Peer{
		Reachable: true, Running: t.Running, Role: leaderelect.Role(st.Role), Leading: t.Leading,
		Timeline: st.Timeline, ReceivedLSN: t.ReceivedLSN, ReplayedLSN: t.ReplayedLSN, FlushedLSN: t.FlushedLSN,
		NoFailover: t.NoFailover, FailoverPriority: t.FailoverPriority,
	}
}
