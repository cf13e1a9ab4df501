package podagent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/api"
	"github.com/tenure-pg/tenure/podagent/ha"
	"github.com/tenure-pg/tenure/podagent/pgconf"
	"github.com/tenure-pg/tenure/podagent/pgctl"
)

// The agent implements api.Commands. Commands that touch postgres take
// the executor lock, so they never interleave with the HA loop's actions.
var _ api.Commands = (*Agent)(nil)

// Switchover records the intent; the leader's loop carries it out.
func (a *Agent) Switchover(ctx context.Context, r api.SwitchoverRequest) error {
	v := a.store.View()
	r, err := api.ValidateSwitchover(v, r, a.clock.Now())
	if err != nil {
		return err
	}
	if s := a.settings(v); r.Candidate != "" && !r.Failover && s.SyncMode != ha.SyncOff && v.State.Sync.Leader != "" && !v.State.Sync.Contains(r.Candidate) {
		return fmt.Errorf("%w: synchronous mode: candidate %s is not a synchronous standby (%v)", api.ErrPrecondition, r.Candidate, v.State.Sync.Members)
	}
	_, err = a.store.Update(ctx, func(s *leaderelect.State) error {
		s.Switchover = &leaderelect.Switchover{From: r.Leader, To: r.Candidate, ScheduledAt: r.ScheduledAt, Failover: r.Failover}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: record switchover: %w", api.ErrUnavailable, err)
	}
	a.poke()
	if !r.ScheduledAt.IsZero() {
		return nil
	}
	return a.awaitNewLeader(ctx, v.Lock.Holder, v.Lock.Epoch)
}

// awaitNewLeader waits until the lock moved past epoch to someone else
// who leads, or the intent was dropped.
func (a *Agent) awaitNewLeader(ctx context.Context, old string, epoch int64) error {
	for {
		v := a.store.View()
		if v.Lock.Epoch > epoch && v.Lock.Holder != "" && v.Lock.Holder != old {
			return nil
		}
		if v.State.Switchover == nil && v.Lock.Epoch == epoch {
			return fmt.Errorf("%w: switchover abandoned by %s", api.ErrUnavailable, old)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: switchover not done: %w", api.ErrUnavailable, ctx.Err())
		case <-a.store.Changes():
		case <-a.clock.After(100 * time.Millisecond):
		}
	}
}

// CancelSwitchover removes a scheduled switchover.
func (a *Agent) CancelSwitchover(ctx context.Context) error {
	if a.store.View().State.Switchover == nil {
		return fmt.Errorf("%w: no switchover scheduled", api.ErrNotFound)
	}
	return a.clearSwitchover(ctx)
}

// Restart restarts postgres in its current role. The configuration is
// rendered first, while postgres still runs: one that cannot be rendered
// fails the request with postgres untouched, instead of after the stop.
func (a *Agent) Restart(ctx context.Context, r api.RestartRequest) error {
	a.execMu.Lock()
	defer a.execMu.Unlock()
	snap := a.Snapshot()
	if r.PendingOnly && !snap.Postgres.PendingRestart {
		return fmt.Errorf("%w: no restart pending", api.ErrUnavailable)
	}
	if r.Role != leaderelect.RoleNone && r.Role != snap.Role {
		return fmt.Errorf("%w: role is %q, not %q", api.ErrUnavailable, snap.Role, r.Role)
	}
	if !a.pg.Running() {
		return fmt.Errorf("%w: postgres is not running", api.ErrUnavailable)
	}
	leader, err := a.renderRole(snap.Role)
	if err != nil {
		return fmt.Errorf("postgres left running: %w", unrenderable(err))
	}
	if err := a.stopPostgres(ctx, pgctl.Fast); err != nil {
		return err
	}
	if snap.Role == leaderelect.RolePrimary {
		err = a.startPrimary(ctx)
	} else {
		err = a.startReplica(ctx, leader)
	}
	a.poke()
	return err
}

// Reload renders the configuration again and signals postgres. A stored
// parameter that does not render is left out (see dynconf.go) and
// reported in /patroni; the reload goes ahead with the rest.
func (a *Agent) Reload(ctx context.Context) error {
	a.execMu.Lock()
	defer a.execMu.Unlock()
	return unrenderable(a.rerender(ctx))
}

// unrenderable classes a configuration the agent cannot render as 422
// for the REST API; other errors pass unchanged.
func unrenderable(err error) error {
	if errors.Is(err, pgconf.ErrInvalid) {
		return fmt.Errorf("%w: %w", api.ErrUnprocessable, err)
	}
	return err
}

// Reinitialize wipes a replica's data; the loop then clones the leader.
func (a *Agent) Reinitialize(ctx context.Context, force bool) error {
	a.execMu.Lock()
	defer a.execMu.Unlock()
	v := a.store.View()
	if v.Lock.Holder == a.cfg.Member {
		return fmt.Errorf("%w: the leader cannot be reinitialized", api.ErrUnavailable)
	}
	if v.Lock.Holder == "" || v.Lock.Expired(a.clock.Now()) {
		return fmt.Errorf("%w: no leader to clone from", api.ErrUnavailable)
	}
	if a.pg.Running() {
		if err := a.stopPostgres(ctx, pgctl.Fast); err != nil {
			return err
		}
	}
	if err := a.pg.Wipe(ctx); err != nil {
		return err
	}
	a.forgetData()
	a.poke()
	return nil
}

// UpdateConfig changes the cluster's dynamic configuration.
func (a *Agent) UpdateConfig(ctx context.Context, fn func(*leaderelect.Config) error) (leaderelect.Config, error) {
	st, err := a.store.Update(ctx, func(s *leaderelect.State) error { return fn(&s.Config) })
	if err != nil {
		if errors.Is(err, leaderelect.ErrUnavailable) {
			return leaderelect.Config{}, fmt.Errorf("%w: %w", api.ErrUnavailable, err)
		}
		return leaderelect.Config{}, err
	}
	a.poke()
	return st.Config, nil
}
