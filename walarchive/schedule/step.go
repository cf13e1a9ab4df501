package schedule

import (
	"context"
	"fmt"
	"time"

	"github.com/tenure-pg/tenure/walarchive/basebackup"
	"github.com/tenure-pg/tenure/walarchive/catalog"
	"github.com/tenure-pg/tenure/walarchive/retention"
)

// step does one round of Run and returns how long to sleep before the
// next (0: go again at once).
func (r *Runner) step(ctx context.Context) time.Duration {
	now := r.clock.Now()
	dsn, ok := r.deps.Source()
	r.setActive(ok)
	l := &r.loop
	switch {
	case !ok:
		return Recheck
	case now.Before(l.retryAt):
		return until(now, l.retryAt)
	case !l.stale && now.Before(l.next):
		return until(now, l.next)
	}
	d, err := r.decide(ctx, now)
	if err != nil {
		r.failed(StageCatalog, err)
		return until(now, l.retryAt)
	}
	if !d.Due {
		if d.Next.IsZero() {
			return Recheck
		}
		return until(now, d.Next)
	}
	r.run(ctx, dsn, d)
	return 0
}

// until is how long to sleep from now towards t, at most Recheck.
func until(now, t time.Time) time.Duration {
	return max(min(t.Sub(now), Recheck), 0)
}

// setActive records whether this member is the source, logging changes.
func (r *Runner) setActive(ok bool) {
	if ok == r.loop.active {
		return
	}
	r.loop.active = ok
	if ok {
		// Another member may have backed up while this one was not the
		// source: re-read the catalogue before trusting next.
		r.loop.stale = true
		r.log.Info("this member now runs the backup schedule")
	} else {
		r.log.Info("this member no longer runs the backup schedule")
	}
	r.update(func(s *Status) {
		s.Active = ok
		if !ok {
			s.Next, s.NextReason = time.Time{}, ""
		}
	})
}

// decide reads the catalogue and applies Decide, logging a new decision.
func (r *Runner) decide(ctx context.Context, now time.Time) (Decision, error) {
	list, err := catalog.List(ctx, r.deps.Store, r.deps.Archive)
	if err != nil {
		return Decision{}, fmt.Errorf("read the backup catalogue: %w", err)
	}
	newest := r.loop.taken
	if m, ok := list.Newest(); ok {
		r.sawBackup(m)
		if m.StartTime.After(newest) {
			newest = m.StartTime
		}
	}
	d := Decide(r.sched, Observation{Newest: newest, Since: r.loop.since, Immediate: r.cfg.Immediate, Now: now})
	l := &r.loop
	if !d.Due && !d.Next.Equal(l.next) { // a due one is logged as it starts
		r.log.Info("next scheduled base backup", "at", stamp(d.Next), "reason", d.Reason)
	}
	l.next, l.stale = d.Next, false
	r.update(func(s *Status) { s.Next, s.NextReason = d.Next, d.Reason })
	return d, nil
}

// run takes the due backup, then applies retention.
func (r *Runner) run(ctx context.Context, dsn string, d Decision) {
	r.update(func(s *Status) { s.Running = true })
	defer r.update(func(s *Status) { s.Running = false })
	r.log.Info("scheduled base backup starting", "slot", stamp(d.Next), "reason", d.Reason)
	m, err := r.take(ctx, dsn, basebackup.Config{
		Store: r.deps.Store, Archive: r.deps.Archive, Codec: r.deps.Codec,
		Fast: r.cfg.Fast, MaxRateKB: r.cfg.MaxRateKB, Now: r.clock.Now, Log: r.log,
	})
	r.loop.stale = true // whatever happened, decide again from the catalogue
	if ctx.Err() != nil {
		r.log.Info("scheduled base backup cancelled", "error", err)
		return
	}
	if err != nil {
		r.failed(StageBackup, fmt.Errorf("scheduled base backup for slot %s: %w", stamp(d.Next), err))
		return
	}
	l := &r.loop
	l.fails, l.retryAt, l.taken = 0, time.Time{}, m.StartTime
	r.sawBackup(m)
	if r.cfg.Retention == nil {
		return
	}
	if err := r.prune(ctx); err != nil && ctx.Err() == nil {
		r.failed(StageRetention, err)
	}
}

// prune applies the retention policy to the whole archive.
func (r *Runner) prune(ctx context.Context) error {
	o, err := retention.Observe(ctx, r.deps.Store, r.deps.Archive)
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	o.Now, o.Policy = r.clock.Now(), *r.cfg.Retention
	p, err := retention.Decide(o)
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	r.log.Debug("retention decided", "keep", len(p.Keep), "delete_backups", len(p.DeleteBackups), "delete_wal", len(p.DeleteWAL))
	return retention.Execute(ctx, r.deps.Store, r.deps.Archive, p, r.log)
}

// failed records a failure. A failed catalogue read or backup also sets
// the backoff before the next attempt; a failed retention run does not
// hold back backups (it is retried after the next one).
func (r *Runner) failed(stage Stage, err error) {
	now := r.clock.Now()
	l := &r.loop
	var retryIn time.Duration
	if stage != StageRetention {
		l.fails++
		retryIn = backoff(l.fails)
		l.retryAt = now.Add(retryIn)
	}
	r.log.Error("scheduled backup failed", "stage", stage, "error", err, "retry_in", retryIn, "consecutive_failures", l.fails)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures[stage]++
	s := &r.status
	s.LastFailure, s.LastStage, s.LastError = now, stage, err.Error()
	if stage != StageRetention {
		s.Next, s.NextReason = l.retryAt, fmt.Sprintf("retrying after %d consecutive failures", l.fails)
	}
}
