package leaderelect

import (
	"context"
	"errors"
	"fmt"
)

var lockKey = Key{Kind: KindLock}

// TryAcquire takes the lock if it is free or expired as observed from
// here, or renews it if this member already holds it. It returns ErrHeld
// when another member holds a lock that has not expired, and ErrConflict
// when another write won the race (re-read the view and decide again).
func (s *Store) TryAcquire(ctx context.Context) (Lock, error) {
	cur := s.snapshot(lockKey)
	if cur.Lock.Holder == s.opts.Member {
		return s.Renew(ctx)
	}
	if view := s.View(); !view.Lock.Expired(s.opts.Clock.Now()) {
		return view.Lock.Lock, fmt.Errorf("acquire %s: %w (holder %s, epoch %d)", s.opts.Cluster, ErrHeld, view.Lock.Holder, view.Lock.Epoch)
	}
	now := s.opts.Clock.Now()
	next := cur
	next.Key = lockKey
	next.Lock = Lock{
		Holder:     s.opts.Member,
		TTL:        s.opts.TTL,
		Epoch:      cur.Lock.Epoch + 1,
		AcquiredAt: now,
		RenewedAt:  now,
	}
	out, err := s.writeLock(ctx, next)
	if err != nil {
		return Lock{}, fmt.Errorf("acquire: %w", err)
	}
	return out, nil
}

// TakeOver takes the lock from holder without waiting for the TTL, on
// the caller's positive evidence that holder is dead (its container
// reported terminated, its pod deleted). The write is compare-and-swap on
// the version observed here, so it fails with ErrConflict if holder
// renewed meanwhile.
func (s *Store) TakeOver(ctx context.Context, holder string) (Lock, error) {
	cur := s.snapshot(lockKey)
	if holder == "" || cur.Lock.Holder != holder || holder == s.opts.Member {
		return cur.Lock, fmt.Errorf("take over %s from %q: %w: holder is %q", s.opts.Cluster, holder, ErrConflict, cur.Lock.Holder)
	}
	now := s.opts.Clock.Now()
	next := cur
	next.Lock = Lock{Holder: s.opts.Member, TTL: s.opts.TTL, Epoch: cur.Lock.Epoch + 1, AcquiredAt: now, RenewedAt: now}
	out, err := s.writeLock(ctx, next)
	if err != nil {
		return Lock{}, fmt.Errorf("take over: %w", err)
	}
	return out, nil
}

// Renew extends this member's hold on the lock. ErrNotHolder means another
// member holds it now: stop acting as leader at once.
func (s *Store) Renew(ctx context.Context) (Lock, error) {
	for attempt := 0; ; attempt++ {
		cur := s.snapshot(lockKey)
		if cur.Lock.Holder != s.opts.Member {
			return cur.Lock, fmt.Errorf("renew %s: %w (holder %q)", s.opts.Cluster, ErrNotHolder, cur.Lock.Holder)
		}
		next := cur
		next.Lock.TTL = s.opts.TTL
		next.Lock.RenewedAt = s.opts.Clock.Now()
		out, err := s.writeLock(ctx, next)
		if !errors.Is(err, ErrConflict) || attempt > 0 {
			if err != nil {
				return Lock{}, fmt.Errorf("renew: %w", err)
			}
			return out, nil
		}
		// Our cached version was stale. Re-read: if we still hold it (our
		// own earlier write, seen late), retry once on the fresh version.
		if _, err := s.get(ctx, lockKey); err != nil {
			return Lock{}, fmt.Errorf("renew: %w", err)
		}
	}
}

// Release gives the lock up: others may take it at once, without waiting
// for the TTL.
func (s *Store) Release(ctx context.Context) error {
	cur := s.snapshot(lockKey)
	if cur.Lock.Holder != s.opts.Member {
		return fmt.Errorf("release %s: %w (holder %q)", s.opts.Cluster, ErrNotHolder, cur.Lock.Holder)
	}
	next := cur
	next.Lock.Holder = ""
	next.Lock.RenewedAt = s.opts.Clock.Now()
	if _, err := s.writeLock(ctx, next); err != nil {
		return fmt.Errorf("release: %w", err)
	}
	return nil
}

// HandOver passes the lock directly to member to, which must have a
// heartbeat. The new holder is not leading until it renews the lock itself.
func (s *Store) HandOver(ctx context.Context, to string) (Lock, error) {
	if err := ValidateName("member", to); err != nil {
		return Lock{}, fmt.Errorf("hand over: %w", err)
	}
	if to == s.opts.Member {
		return Lock{}, fmt.Errorf("hand over %s: %w: to self", s.opts.Cluster, ErrInvalid)
	}
	if _, ok := s.View().Members[to]; !ok {
		return Lock{}, fmt.Errorf("hand over %s: %w: unknown member %q (no heartbeat)", s.opts.Cluster, ErrInvalid, to)
	}
	cur := s.snapshot(lockKey)
	if cur.Lock.Holder != s.opts.Member {
		return Lock{}, fmt.Errorf("hand over %s: %w (holder %q)", s.opts.Cluster, ErrNotHolder, cur.Lock.Holder)
	}
	now := s.opts.Clock.Now()
	next := cur
	next.Lock = Lock{Holder: to, TTL: s.opts.TTL, Epoch: cur.Lock.Epoch + 1, AcquiredAt: now, RenewedAt: now}
	out, err := s.writeLock(ctx, next)
	if err != nil {
		return Lock{}, fmt.Errorf("hand over to %s: %w", to, err)
	}
	return out, nil
}

// writeLock writes the lock and, when this member is the holder written,
// starts its freshness at the moment the write was sent.
func (s *Store) writeLock(ctx context.Context, next Record) (Lock, error) {
	out, sent, err := s.put(ctx, next)
	if err != nil {
		return Lock{}, err
	}
	s.mu.Lock()
	if s.lock.Version == out.Version && out.Lock.Holder == s.opts.Member {
		s.lastRenewal = sent
	}
	s.mu.Unlock()
	return out.Lock, nil
}

// Probe reads the lock from the source of truth, bypassing the watch, and
// reports whether the API answered (classified error otherwise). The
// failsafe check uses it to tell "I cannot reach the API either" from
// "only the leader cannot".
func (s *Store) Probe(ctx context.Context) error {
	_, err := s.get(ctx, lockKey)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
