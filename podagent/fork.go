package podagent

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tenure-pg/tenure/podagent/ha"
	"github.com/tenure-pg/tenure/podagent/pgctl"
)

// forkTimeout bounds each replication-protocol exchange of the divergence
// check (a local IDENTIFY_SYSTEM, the leader's TIMELINE_HISTORY: both
// answer in milliseconds).
const forkTimeout = 3 * time.Second

// observeFork sets this member's WAL against the leader's timeline
// history (ha.Fork), only when it can matter: this member's timeline is
// older than the one the leader publishes in its heartbeat. Errors leave
// the fork unknown (the zero value), which is never a divergence: the next
// loop tries again.
//
// The leader's history comes from the leader itself (TIMELINE_HISTORY over
// a replication connection, as Patroni does), not from the local pg_wal: a
// diverged member may never have fetched the new timeline's history file
// (stopped, or never connected since), and only the leader's copy is
// authoritative. It is cached per (leader, timeline): it never changes.
func (a *Agent) observeFork(ctx context.Context, o ha.Observation) ha.Fork {
	leader, pg := o.View.Lock.Holder, o.Postgres
	lt := o.View.Members[leader].Timeline
	if leader == "" || leader == a.cfg.Member || pg.Dir != ha.DirInitialized || lt <= 1 ||
		(pg.Running && !pg.InRecovery) || (pg.Timeline >= lt && pg.Timeline > 0) {
		a.noteFork("")
		return ha.Fork{}
	}
	tl, pos, err := a.ownTimeline(ctx, pg)
	if err != nil {
		a.log.Debug("divergence check: own timeline", "error", err)
		return ha.Fork{}
	}
	if tl >= lt {
		a.noteFork("")
		return ha.Fork{}
	}
	hist, err := a.leaderHistory(ctx, leader, lt)
	if err != nil {
		a.log.Warn("divergence check: leader's timeline history", "leader", leader, "timeline", lt, "error", err)
		return ha.Fork{}
	}
	f := ha.Fork{Leader: leader, Timeline: tl, Position: pos, LeaderTimeline: lt, History: hist}
	diverged, why := f.Diverged()
	if !diverged {
		why = ""
	}
	a.noteFork(why)
	if diverged && pg.Running {
		a.setState(stateDiverged) // at once: the REST API must not call it healthy meanwhile
	}
	return f
}

// stateDiverged is the member state (REST API, heartbeat, tenure list)
// of a running member that holds WAL the leader does not have.
const stateDiverged = "diverged"

func (a *Agent) noteFork(why string) {
	a.mu.Lock()
	a.mem.diverged = why
	a.mu.Unlock()
}

// ownTimeline is this member's timeline and how far it replayed there.
// Running: the timeline from IDENTIFY_SYSTEM on the local server (on a
// standby, that of the WAL it received; pg_stat_wal_receiver and the
// checkpoint lag behind a timeline switch), and the replay position:
// PostgreSQL's own criterion. The received position may run past the
// switchpoint without divergence: the walwriter flushes mid-record, so a
// sibling of the promoted replica can hold a torn tail of the very record
// the promoted one stopped before. Stopped: the control data's minimum
// recovery point (a standby), else its last checkpoint.
func (a *Agent) ownTimeline(ctx context.Context, pg ha.Postgres) (int64, uint64, error) {
	if !pg.Running {
		cd, err := a.pg.Controldata(ctx)
		if err != nil {
			return 0, 0, err
		}
		tl, pos := controlPosition(cd)
		return tl, pos, nil
	}
	conn, err := replicationConn(ctx, fmt.Sprintf("host=%s port=%d user=%s dbname=postgres application_name=%s",
		a.cfg.SocketDir, a.cfg.Port, a.cfg.Superuser, a.cfg.Member))
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	cctx, cancel := context.WithTimeout(ctx, forkTimeout)
	defer cancel()
	sys, err := pglogrepl.IdentifySystem(cctx, conn)
	if err != nil {
		return 0, 0, fmt.Errorf("identify system: %w", err)
	}
	pos := pg.ReplayedLSN
	if pos == 0 {
		pos = uint64(sys.XLogPos)
	}
	return int64(sys.Timeline), pos, nil
}

// controlPosition is a stopped data directory's timeline and position:
// the minimum recovery point of a standby (where its replay reached when
// pages were last flushed), else the latest checkpoint.
func controlPosition(cd pgctl.Controldata) (int64, uint64) {
	if strings.Contains(cd.State, "recovery") && cd.MinRecoveryEndLSN != 0 && cd.MinRecoveryEndTimeline != 0 {
		return int64(cd.MinRecoveryEndTimeline), uint64(cd.MinRecoveryEndLSN)
	}
	return int64(cd.Timeline), uint64(cd.CheckpointLSN)
}

// leaderHistory is the leader's history file for timeline tl, cached.
func (a *Agent) leaderHistory(ctx context.Context, leader string, tl int64) ([]ha.TimelineSwitch, error) {
	key := fmt.Sprintf("%s/%d", leader, tl)
	a.mu.Lock()
	if a.mem.historyKey == key {
		h := a.mem.history
		a.mu.Unlock()
		return h, nil
	}
	a.mu.Unlock()
	conn, err := replicationConn(ctx, a.connTo(leader, a.cfg.ReplicationUser, ""))
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	cctx, cancel := context.WithTimeout(ctx, forkTimeout)
	defer cancel()
	res, err := pglogrepl.TimelineHistory(cctx, conn, int32(tl))
	if err != nil {
		return nil, fmt.Errorf("TIMELINE_HISTORY %d: %w", tl, err)
	}
	h, err := ha.ParseHistory(string(res.Content))
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.mem.historyKey, a.mem.history = key, h
	a.mu.Unlock()
	return h, nil
}

func replicationConn(ctx context.Context, conninfo string) (*pgconn.PgConn, error) {
	cfg, err := pgconn.ParseConfig(conninfo)
	if err != nil {
		return nil, err
	}
	cfg.RuntimeParams["replication"] = "true"
	cctx, cancel := context.WithTimeout(ctx, forkTimeout)
	defer cancel()
	conn, err := pgconn.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("replication connection: %w", err)
	}
	return conn, nil
}
