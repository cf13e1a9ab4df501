package podagent

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/ha"
	"github.com/tenure-pg/tenure/podagent/pgconf"
	"github.com/tenure-pg/tenure/podagent/pgctl"
)

// Bounds on the executor's steps. The demotion bound matters most: a
// leader past its renew deadline has TTL-RenewDeadline (3 s at defaults)
// before anyone else may see the lock expire, so a fast shutdown that does
// not finish in 2 s is escalated to an immediate one.
const (
	demoteTimeout   = 2 * time.Second
	stopTimeout     = 60 * time.Second
	startTimeout    = 5 * time.Minute
	awaitCandidate  = 10 * time.Second
	lockStepTimeout = 5 * time.Second
	// failsafeBudget bounds one failsafe round (peers answer in ms; a
	// partitioned one times out).
	failsafeBudget = time.Second
)

// execute runs d's actions in order until one fails. It reports whether
// the agent should exit, and whether every action succeeded.
func (a *Agent) execute(ctx context.Context, o ha.Observation, d ha.Decision) (exit, ok bool) {
	for _, act := range d.Actions {
		err := a.do(ctx, o, act)
		if err != nil {
			if !errors.Is(err, leaderelect.ErrHeld) {
				a.log.Warn("action failed", "action", act.String(), "reason", act.Reason, "error", err)
			}
			return false, false
		}
		if act.Kind == ha.Exit {
			return true, true
		}
	}
	return false, true
}

func (a *Agent) do(ctx context.Context, o ha.Observation, act ha.Action) error {
	switch act.Kind {
	case ha.Wait, ha.Exit:
		return nil
	case ha.NeedsAttention:
		a.setState("needs attention")
		return nil
	case ha.AcquireLock, ha.RenewLock, ha.ReleaseLock, ha.HandOver:
		return a.lockStep(ctx, act)
	case ha.InitDB, ha.RestoreArchive, ha.Basebackup, ha.Reclone, ha.Rewind, ha.RecordInitialize:
		return a.dataStep(ctx, act)
	case ha.StartPrimary, ha.StartReplica, ha.Follow, ha.Promote, ha.Demote, ha.StopPostgres, ha.AwaitCandidate:
		return a.processStep(ctx, o, act)
	case ha.FenceOthers:
		return a.fenceOthers(ctx)
	case ha.Label:
		return a.labelSelf(ctx, act.Role)
	case ha.PublishSync, ha.ApplySync, ha.CreateSlots:
		return a.syncStep(ctx, act)
	case ha.ClearSwitchover, ha.RecordHistory:
		return a.stateStep(ctx, o, act)
	case ha.Checkpoint:
		return a.pg.Checkpoint(ctx)
	case ha.FinishRestore:
		return a.finishRestore(ctx)
	case ha.AbandonRestore:
		return a.abandonRestore(ctx, act.Reason)
	}
	return fmt.Errorf("no executor for %s", act.Kind)
}

func (a *Agent) lockStep(ctx context.Context, act ha.Action) error {
	timeout := lockStepTimeout
	if v := a.store.View(); act.Kind == ha.RenewLock && !v.LastRenewal.IsZero() {
		// A renewal still in flight at the renew deadline is useless: the
		// guard demotes then. Give up early enough to leave a failsafe
		// round its time before the deadline.
		left := v.LastRenewal.Add(a.cfg.RenewDeadline).Sub(a.clock.Now()) - failsafeBudget
		timeout = min(timeout, max(left, 100*time.Millisecond))
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var err error
	switch act.Kind {
	case ha.AcquireLock:
		if act.Member != "" {
			_, err = a.store.TakeOver(ctx, act.Member)
		} else {
			_, err = a.store.TryAcquire(ctx)
		}
	case ha.RenewLock:
		_, err = a.store.Renew(ctx)
		if errors.Is(err, leaderelect.ErrUnavailable) && a.cfg.FailsafeMode {
			fctx, fcancel := context.WithTimeout(parent, failsafeBudget)
			a.failsafeRound(fctx)
			fcancel()
		}
	case ha.ReleaseLock:
		err = a.store.Release(ctx)
	case ha.HandOver:
		_, err = a.store.HandOver(ctx, act.Member)
	}
	if err == nil {
		a.mu.Lock()
		a.mem.dcsLastSeen = a.clock.Now()
		a.mu.Unlock()
	}
	return err
}

func (a *Agent) dataStep(ctx context.Context, act ha.Action) error {
	switch act.Kind {
	case ha.InitDB:
		a.setState("initializing new cluster")
		return a.pg.InitDB(ctx, pgctl.InitOptions{})
	case ha.RestoreArchive:
		a.setState("restoring from the archive")
		stop := a.keepLock(ctx)
		defer stop()
		return a.restoreSource(ctx)
	case ha.RecordInitialize:
		return a.store.Initialize(ctx, act.Member)
	case ha.Basebackup:
		a.setState("creating replica")
		if a.replicaFromArchive(ctx) {
			return nil
		}
		return a.pg.Basebackup(ctx, pgctl.BasebackupOptions{ConnString: a.cloneConn(act.Member), CheckpointFast: true})
	case ha.Reclone:
		a.setState("creating replica")
		if err := a.pg.Wipe(ctx); err != nil {
			return err
		}
		a.forgetData()
		return a.pg.Basebackup(ctx, pgctl.BasebackupOptions{ConnString: a.cloneConn(act.Member), CheckpointFast: true})
	case ha.Rewind:
		a.setState("rewinding")
		if err := a.leaderCheckpointed(ctx, act.Member); err != nil {
			return err
		}
		err := a.pg.Rewind(ctx, a.connTo(act.Member, a.cfg.Superuser, "postgres"))
		a.mu.Lock()
		switch {
		case err == nil:
			a.mem.rewoundFor = act.Member
		case errors.Is(err, pgctl.ErrRewindImpossible):
			a.mem.rewindFailedFor = act.Member
		}
		a.mu.Unlock()
		return err
	}
	return nil
}

// forgetData drops what the agent remembered of the data directory.
func (a *Agent) forgetData() {
	a.mu.Lock()
	a.mem.sysid, a.mem.rewindFailedFor, a.mem.rewoundFor, a.mem.following = "", "", "", ""
	a.mu.Unlock()
}

// cloneConn is how pg_basebackup reaches member: under pg_basebackup's
// own application_name, so its WAL stream is never mistaken for this
// member's replication connection (the leader once chose it as a
// synchronous standby).
func (a *Agent) cloneConn(member string) string {
	return conninfo(a.store.View().Members[member].ConnURL, a.cfg.ReplicationUser, "pg_basebackup", "")
}

// connTo is a libpq connection string to member's postgres, from its
// heartbeat.
func (a *Agent) connTo(member, user, dbname string) string {
	return conninfo(a.store.View().Members[member].ConnURL, user, a.cfg.Member, dbname)
}

// conninfo turns a published conn_url into libpq keyword form (what
// primary_conninfo, pg_basebackup and pg_rewind take), adding the user and
// application name. Names are DNS labels and users plain identifiers, so
// no quoting is needed.
func conninfo(connURL, user, app, dbname string) string {
	host, port := connURL, ""
	if u, err := url.Parse(connURL); err == nil && u.Host != "" {
		host, port = u.Hostname(), u.Port()
	}
	s := "host=" + host
	if port != "" {
		s += " port=" + port
	}
	s += " user=" + user + " application_name=" + app + " connect_timeout=3"
	if dbname != "" {
		s += " dbname=" + dbname
	}
	return s
}

func (a *Agent) setState(s string) {
	a.mu.Lock()
	a.mem.state = s
	a.mu.Unlock()
}

// render writes postgresql.conf and pg_hba.conf for the role about to run.
func (a *Agent) render(standby *pgconf.Standby) (pgconf.Result, error) {
	a.mu.Lock()
	syncMembers := a.mem.syncMembers
	a.mu.Unlock()
	m := pgconf.Member{
		ListenAddresses: a.cfg.ListenAddress, Port: a.cfg.Port, SocketDir: a.cfg.SocketDir,
		Parameters: a.parameters(), Standby: standby, Superuser: a.cfg.Superuser,
		ReplicationUser: a.cfg.ReplicationUser, TrustLoopback: a.cfg.TrustLoopback, HBA: a.cfg.HBA,
		ArchiveCommand: a.cfg.ArchiveCommand, RestoreCommand: a.cfg.RestoreCommand,
	}
	if standby != nil {
		// A standby ignores the setting; the gate is listed all the same,
		// so that no commit after a promotion goes without it.
		syncMembers = nil
	}
	m.SyncStandbyNames = syncStandbyNames(a.gateName(), syncMembers)
	res, err := pgconf.Apply(a.pg.DataDir(), m)
	if err != nil {
		return res, fmt.Errorf("render configuration: %w", err)
	}
	if err := a.arch.saveOwnConfig(a.pg.DataDir()); err != nil {
		return res, fmt.Errorf("render configuration: %w", err)
	}
	return res, nil
}

func (a *Agent) standbyOf(leader string) *pgconf.Standby {
	s := &pgconf.Standby{PrimarySlotName: pgconf.SlotName(a.cfg.Member)}
	if leader != "" {
		s.PrimaryConnInfo = a.connTo(leader, a.cfg.ReplicationUser, "")
	} else if a.settings(a.store.View()).StandbyCluster {
		// A standby cluster's leader replays the source's archive and, with
		// a source host, streams from the source's primary (no slot there:
		// the source does not know this cluster's members).
		if a.arch.source != nil {
			s.RestoreCommand = a.arch.sourceRestoreCommand()
		}
		if a.cfg.Archive.StandbyHost != "" {
			s.PrimaryConnInfo, s.PrimarySlotName = a.standbyConnInfo(a.cfg.Member), ""
		}
	}
	return s
}

// keepLock renews the lock every RetryPeriod until the returned function
// is called: a bootstrap from the archive takes as long as the download,
// far beyond the TTL, and no postgres runs meanwhile, so holding the lock
// through it is safe and keeps the others from bootstrapping too.
func (a *Agent) keepLock(ctx context.Context) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-a.clock.After(a.cfg.RetryPeriod):
			}
			rctx, rcancel := context.WithTimeout(ctx, lockStepTimeout)
			if _, err := a.store.Renew(rctx); err != nil {
				a.log.Warn("renew the lock while restoring", "error", err)
			}
			rcancel()
		}
	}()
	return func() { cancel(); <-done }
}
