package podagent

import (
	"context"
	"time"

	"github.com/tenure-pg/tenure/internal/lsn"
	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/api"
	"github.com/tenure-pg/tenure/podagent/ha"
)

// publish records the loop's outcome: the snapshot the REST API serves and
// the heartbeat (written only when due; see leaderelect.HeartbeatDue).
func (a *Agent) publish(ctx context.Context, o ha.Observation) {
	pg := a.observePostgres(ctx, o.View) // after the actions
	a.mu.Lock()
	a.mem.loopAt = a.clock.Now()
	a.mem.pgRunning = pg.Running
	o.Postgres = pg
	a.mem.leading = ha.Leading(o) && pg.Running && !pg.InRecovery
	if pg.Running && a.mem.state != "needs attention" {
		a.mem.state = "running"
		if a.mem.diverged != "" && pg.InRecovery {
			a.mem.state = stateDiverged // never healthy: see observeFork
		}
	} else if !pg.Running && a.mem.state == "running" {
		a.mem.state = "stopped"
	}
	st := leaderelect.MemberStatus{
		Role: roleOf(pg), State: a.mem.state, Timeline: pg.Timeline,
		ReceivedLSN: pg.ReceivedLSN, ReplayedLSN: pg.ReplayedLSN, FlushedLSN: pg.FlushedLSN,
		APIURL: a.cfg.APIURL, ConnURL: a.cfg.ConnURL(), Tags: a.cfg.Tags,
		PendingRestart: a.mem.pgStatus.PendingRestart && pg.Running,
	}
	a.mu.Unlock()
	if _, err := a.store.PublishStatus(ctx, st); err != nil {
		a.log.Debug("heartbeat not written", "error", err)
	}
}

// leadingLocked applies ha.Leading to what the agent knows now.
func (a *Agent) leadingLocked(v leaderelect.ClusterView, now time.Time) bool {
	return ha.Leading(ha.Observation{
		Now: now, Self: a.cfg.Member, View: v, FailsafeConfirmed: a.mem.failsafeConfirmed,
		Settings: ha.Settings{FailsafeMode: a.cfg.FailsafeMode, RenewDeadline: a.cfg.RenewDeadline},
	})
}

func roleOf(pg ha.Postgres) leaderelect.Role {
	switch {
	case !pg.Running:
		return leaderelect.RoleNone
	case pg.InRecovery:
		return leaderelect.RoleReplica
	}
	return leaderelect.RolePrimary
}

func (a *Agent) snapshotLocked() api.Snapshot {
	st := a.mem.pgStatus
	running := a.mem.pgRunning
	s := api.Snapshot{
		Member: a.cfg.Member, Cluster: a.cfg.Cluster, State: a.mem.state,
		View: a.store.View(), Tags: a.cfg.Tags, LoopAt: a.mem.loopAt, DCSLastSeen: a.mem.dcsLastSeen,
		Now: a.clock.Now(), TTL: a.cfg.TTL,
	}
	s.Paused = s.View.State.Config.Paused
	s.Archive = a.mem.archive
	s.ConfigError = a.mem.configError
	// Leading is judged now, not at the last loop: a loop blocked in a slow
	// step must not make peers believe a stale leader still leads.
	s.Leading = running && !st.InRecovery && !a.mem.restoring && a.leadingLocked(s.View, s.Now)
	s.Postgres = api.PostgresInfo{Running: running, SystemID: a.mem.sysid}
	if !running {
		return s
	}
	s.Role = leaderelect.RoleReplica
	if !st.InRecovery {
		s.Role = leaderelect.RolePrimary
	}
	p := &s.Postgres
	p.Timeline, p.FlushedLSN, p.ReceivedLSN, p.ReplayedLSN = int64(st.Timeline), st.FlushLSN, st.ReceivedLSN, st.ReplayedLSN
	p.ReplayPaused, p.ServerVersion, p.PostmasterStart, p.PendingRestart = st.ReplayPaused, st.ServerVersionNum, st.PostmasterStart, st.PendingRestart
	if st.Receiver != nil {
		p.ReceiverState = st.Receiver.Status
	}
	for _, r := range st.Replication {
		p.Replication = append(p.Replication, api.ReplicationInfo{Name: r.ApplicationName, State: r.State, SyncState: r.SyncState, ClientAddr: r.ClientAddr})
	}
	return s
}

var _ = lsn.LSN(0)
