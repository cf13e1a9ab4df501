package leaderelect

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

var stateKey = Key{Kind: KindState}

// maxStateRetries bounds the re-read-and-retry loop of Update under
// contention; each retry follows a lost compare-and-swap and a random
// backoff that grows by stateBackoff per attempt, so that writers that
// collided do not collide again in lockstep (three members appending at
// once lost five races in a row without it).
const (
	maxStateRetries = 10
	stateBackoff    = 20 * time.Millisecond
)

// Update applies fn to the cluster record and writes it with
// compare-and-swap, re-reading and re-applying fn after a lost race. fn
// must be a pure function of its argument: it may run several times. An
// error from fn aborts the update and is returned as is (wrapped).
func (s *Store) Update(ctx context.Context, fn func(*State) error) (State, error) {
	var err error
	for attempt := range maxStateRetries {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return State{}, fmt.Errorf("update cluster %s: %w", s.opts.Cluster, err)
			}
		}
		cur := s.snapshot(stateKey)
		next := cur
		next.Key = stateKey
		next.State = cur.State.clone()
		if err := fn(&next.State); err != nil {
			return cur.State, fmt.Errorf("update cluster %s: %w", s.opts.Cluster, err)
		}
		var out Record
		out, _, err = s.put(ctx, next)
		if err == nil {
			return out.State, nil
		}
		if !errors.Is(err, ErrConflict) {
			return cur.State, fmt.Errorf("update cluster %s: %w", s.opts.Cluster, err)
		}
		if _, gerr := s.get(ctx, stateKey); gerr != nil && !errors.Is(gerr, ErrNotFound) {
			return cur.State, fmt.Errorf("update cluster %s: %w", s.opts.Cluster, gerr)
		}
	}
	return State{}, fmt.Errorf("update cluster %s: gave up after %d lost races: %w", s.opts.Cluster, maxStateRetries, err)
}

// Initialize records sysid as the cluster's system identifier if nobody
// has, or if it is already sysid. It returns ErrAlreadyInitialized (with the recorded identifier)
// when another member won the bootstrap race.
func (s *Store) Initialize(ctx context.Context, sysid string) error {
	if sysid == "" {
		return fmt.Errorf("initialize %s: %w: empty system identifier", s.opts.Cluster, ErrInvalid)
	}
	_, err := s.Update(ctx, func(st *State) error {
		if st.Initialize == sysid {
			return nil // our own earlier write, or a restart of the winner
		}
		if st.Initialize != "" {
			return fmt.Errorf("%w: system identifier %s", ErrAlreadyInitialized, st.Initialize)
		}
		st.Initialize = sysid
		return nil
	})
	return err
}

func backoff(ctx context.Context, attempt int) error {
	t := time.NewTimer(rand.N(time.Duration(attempt) * stateBackoff))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
