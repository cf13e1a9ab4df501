package podagent

import (
	"context"
	"time"

	"github.com/tenure-pg/tenure/podagent/gate"
	"github.com/tenure-pg/tenure/podagent/pgctl"
)

// guardTick is how often the guard checks the renew deadline. The margin
// it has is TTL - RenewDeadline (3 s at defaults), minus a fast shutdown
// (tens of ms, escalated to immediate after demoteTimeout).
const guardTick = 100 * time.Millisecond

// guard stops a primary whose lease is no longer fresh, independently of
// the HA loop, which may be blocked in a slow step (a renewal against an
// API that hangs, a failsafe round, a checkpoint). It makes the same
// judgement as the loop (ha.Leading); it only acts sooner.
func (a *Agent) guard(ctx context.Context) {
	t := time.NewTicker(guardTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !a.pg.Running() {
			continue
		}
		a.mu.Lock()
		primary := a.mem.pgRunning && !a.mem.pgStatus.InRecovery
		leading := a.leadingLocked(a.store.View(), a.clock.Now())
		a.mu.Unlock()
		if !primary || leading {
			continue
		}
		a.log.Warn("renew deadline passed while the loop was busy: stopping postgres now")
		sctx, cancel := context.WithTimeout(ctx, demoteTimeout)
		if err := a.stopPostgres(sctx, pgctl.Fast); err != nil {
			a.log.Error("guard could not stop postgres", "error", err)
		}
		cancel()
		a.mu.Lock()
		a.mem.pgRunning = false
		a.mu.Unlock()
		a.poke()
	}
}

// leadingNow is the commit gate's judgement of the lease: the guard's
// (ha.Leading), asked on every commit, so the common case, a lease
// renewed within the renew deadline, skips copying the view. An agent
// stuck anywhere stops renewing, and then confirms nothing.
func (a *Agent) leadingNow(now time.Time) bool {
	if a.store.Leading(now) {
		return true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.leadingLocked(a.store.View(), now) // the failsafe's confirmation
}

func (a *Agent) gateName() string {
	if a.gate == nil {
		return ""
	}
	return gate.Name
}

// stopPostgres stops postgres in mode. The commit gate's session goes
// first: a shutdown waits for every connected standby to confirm its
// last WAL, and the gate confirms nothing once the lease is stale.
func (a *Agent) stopPostgres(ctx context.Context, mode pgctl.StopMode) error {
	if a.gate != nil {
		a.gate.Disconnect()
	}
	return a.pg.Stop(ctx, mode)
}
