// Package dcsdemo drives leaderelect the simplest way a member can: take
// the lock when it is free, renew it every RetryPeriod while holding it,
// publish a heartbeat every loop (the Store keeps the write budget). It
// stands in for the agent's HA loop in the live demo and in the idle-load
// benchmark; it makes no PostgreSQL decisions.
package dcsdemo

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/tenure-pg/tenure/leaderelect"
)

// Contender is one member campaigning for the lock.
type Contender struct {
	Store *leaderelect.Store
	Log   hclog.Logger
	// Tick is the longest the loop sleeps without an observed change.
	Tick time.Duration

	leading atomic.Bool
	holder  string
}

// Run campaigns until ctx ends, then just stops renewing, as a crashed
// member would; a graceful stop calls Store.Release after Run returns.
func (c *Contender) Run(ctx context.Context) {
	tick := c.Tick
	if tick <= 0 {
		tick = time.Second
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.Store.Changes():
		case <-timer.C:
			timer.Reset(tick)
		}
		c.step(ctx)
	}
}

func (c *Contender) step(ctx context.Context) {
	opts := c.Store.Options()
	now := opts.Clock.Now()
	v := c.Store.View()
	var err error
	switch {
	case v.Lock.Holder == v.Self && (v.LastRenewal.IsZero() || now.Sub(v.LastRenewal) >= opts.RetryPeriod):
		_, err = c.Store.Renew(ctx)
	case v.Lock.Holder != v.Self && v.Lock.Expired(now):
		_, err = c.Store.TryAcquire(ctx)
	}
	if err != nil && ctx.Err() == nil && !errors.Is(err, leaderelect.ErrHeld) && !errors.Is(err, leaderelect.ErrConflict) {
		c.Log.Warn("lock write failed", "error", err)
	}
	v = c.Store.View()
	now = opts.Clock.Now()
	c.report(v, now)
	role := leaderelect.RoleReplica
	if c.leading.Load() {
		role = leaderelect.RolePrimary
	}
	if _, err := c.Store.PublishStatus(ctx, leaderelect.MemberStatus{Role: role, State: "running"}); err != nil && ctx.Err() == nil {
		c.Log.Warn("heartbeat failed", "error", err)
	}
}

// report logs changes of leadership once, when they happen.
func (c *Contender) report(v leaderelect.ClusterView, now time.Time) {
	leading := v.Leading(now)
	if leading != c.leading.Load() {
		c.leading.Store(leading)
		if leading {
			c.Log.Info("became leader", "epoch", v.Lock.Epoch)
		} else {
			c.Log.Info("stopped leading", "holder", v.Lock.Holder, "epoch", v.Lock.Epoch)
		}
	}
	if v.Lock.Holder != c.holder {
		c.holder = v.Lock.Holder
		c.Log.Debug("observed lock holder", "holder", v.Lock.Holder, "epoch", v.Lock.Epoch)
	}
}

// Leading reports whether the contender counted itself leader at its last
// step.
func (c *Contender) Leading() bool { return c.leading.Load() }
