package podagent

import (
	"context"
	"fmt"
	"time"

	"github.com/tenure-pg/tenure/internal/lsn"
	"github.com/tenure-pg/tenure/podagent/api"
	"github.com/tenure-pg/tenure/podagent/ha"
	"github.com/tenure-pg/tenure/podagent/pgctl"
)

func (a *Agent) processStep(ctx context.Context, o ha.Observation, act ha.Action) error {
	switch act.Kind {
	case ha.StartPrimary:
		return a.startPrimary(ctx)
	case ha.StartReplica:
		return a.startReplica(ctx, act.Member)
	case ha.Follow:
		if _, err := a.render(a.standbyOf(act.Member)); err != nil {
			return err
		}
		a.setFollowing(act.Member)
		return a.pg.Reload(ctx)
	case ha.Promote:
		return a.promote(ctx)
	case ha.Demote:
		a.setState("demoting")
		sctx, cancel := context.WithTimeout(ctx, demoteTimeout)
		defer cancel()
		return a.stopPostgres(sctx, pgctl.Fast)
	case ha.StopPostgres:
		return a.stopClean(ctx)
	case ha.AwaitCandidate:
		return a.awaitCandidate(ctx, act.Member)
	}
	return nil
}

func (a *Agent) setFollowing(member string) {
	a.mu.Lock()
	a.mem.following = member
	a.mu.Unlock()
}

func (a *Agent) startPrimary(ctx context.Context) error {
	a.setState("starting")
	if _, err := a.render(nil); err != nil {
		return err
	}
	a.setFollowing("")
	a.mu.Lock()
	a.mem.rewoundFor = ""
	a.mu.Unlock()
	sctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := a.pg.Start(sctx); err != nil {
		return err
	}
	if st, err := a.pg.Status(ctx); err == nil && st.InRecovery {
		return nil // a restored backup recovering to its target: read-only until it promotes itself
	}
	return a.pg.EnsureRole(ctx, a.cfg.ReplicationUser, "", true)
}

func (a *Agent) startReplica(ctx context.Context, leader string) error {
	a.setState("starting")
	if _, err := a.render(a.standbyOf(leader)); err != nil {
		return err
	}
	a.setFollowing(leader)
	sctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	return a.pg.Start(sctx)
}

func (a *Agent) promote(ctx context.Context) error {
	a.setState("promoting")
	began := a.clock.Now()
	if err := a.pg.Promote(ctx); err != nil {
		return err
	}
	a.mu.Lock()
	a.mem.syncAppliedLSN, a.mem.following, a.mem.rewoundFor = 0, "", ""
	a.mu.Unlock()
	if _, err := a.render(nil); err != nil {
		return err
	}
	a.log.Info("promoted", "took", a.clock.Since(began).Round(time.Millisecond))
	return a.pg.EnsureRole(ctx, a.cfg.ReplicationUser, "", true)
}

// stopClean shuts postgres down with a shutdown checkpoint and remembers
// where that checkpoint is, for AwaitCandidate.
func (a *Agent) stopClean(ctx context.Context) error {
	a.setState("stopping")
	sctx, cancel := context.WithTimeout(ctx, stopTimeout)
	defer cancel()
	if err := a.stopPostgres(sctx, pgctl.Fast); err != nil {
		return err
	}
	cd, err := a.pg.Controldata(ctx)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.mem.stopCheckpoint = uint64(cd.CheckpointLSN)
	a.mu.Unlock()
	return nil
}

// awaitCandidate waits until member has received WAL past the shutdown
// checkpoint, so that handing it the lock loses nothing. On timeout the
// switchover is abandoned (the intent cleared) and this member, still the
// holder, starts again as primary on the next loop.
func (a *Agent) awaitCandidate(ctx context.Context, member string) error {
	a.mu.Lock()
	target := a.mem.stopCheckpoint
	a.mu.Unlock()
	url := a.store.View().Members[member].APIURL
	deadline := a.clock.Now().Add(awaitCandidate)
	for {
		st, err := api.Fetch(ctx, a.http, url)
		if err == nil && max(st.Tenure.ReceivedLSN, st.Tenure.ReplayedLSN) > target {
			return nil
		}
		if a.clock.Now().After(deadline) {
			a.clearSwitchover(ctx)
			if a.stopping.Load() {
				// Shutting down with no caught-up candidate: release rather
				// than hold the lock until the TTL, so the others elect the
				// best of themselves at once.
				if rerr := a.store.Release(ctx); rerr == nil {
					a.log.Warn("hand-over candidate not caught up; released the lock instead", "candidate", member)
				}
			}
			return fmt.Errorf("candidate %s did not receive WAL past %v within %v (last error %v)", member, lsn.LSN(target), awaitCandidate, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-a.clock.After(20 * time.Millisecond):
		}
	}
}
