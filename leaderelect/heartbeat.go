package leaderelect

import (
	"context"
	"fmt"
	"time"
)

// heartbeat remembers this member's last written status.
type heartbeat struct {
	status  MemberStatus
	written time.Time // zero until the first write
}

// HeartbeatDue decides whether next must be written, given the last status
// written at lastWrite (zero if never). It is pure so the write budget can
// be tested without an API: an idle member writes once per maxInterval, a
// busy one at most once per minInterval, a changed one at once.
func HeartbeatDue(last, next MemberStatus, lastWrite, now time.Time, minInterval, maxInterval time.Duration) (bool, string) {
	since := now.Sub(lastWrite)
	switch {
	case lastWrite.IsZero():
		return true, "first heartbeat"
	case !last.sameButProgress(next):
		return true, "status changed"
	case since >= maxInterval:
		return true, "keepalive"
	case last.ReceivedLSN == next.ReceivedLSN && last.ReplayedLSN == next.ReplayedLSN && last.FlushedLSN == next.FlushedLSN:
		return false, "unchanged"
	case since >= minInterval:
		return true, "wal progress"
	}
	return false, "wal progress within min interval"
}

// PublishStatus writes this member's heartbeat if HeartbeatDue says so and
// reports whether it wrote. Call it every loop; it keeps the write budget.
func (s *Store) PublishStatus(ctx context.Context, st MemberStatus) (bool, error) {
	if st.Name == "" {
		st.Name = s.opts.Member
	}
	if st.Name != s.opts.Member {
		return false, fmt.Errorf("%w: status of %q published by member %q", ErrInvalid, st.Name, s.opts.Member)
	}
	now := s.opts.Clock.Now()
	s.mu.Lock()
	beat := s.beat
	s.mu.Unlock()
	if due, _ := HeartbeatDue(beat.status, st, beat.written, now, s.opts.HeartbeatMinInterval, s.opts.HeartbeatMaxInterval); !due {
		return false, nil
	}
	key := Key{Kind: KindMember, Name: s.opts.Member}
	cur := s.snapshot(key)
	if cur.Version == "" && !beat.written.IsZero() {
		// Our record vanished (garbage-collected with a previous pod, or
		// deleted by hand): create it again.
		cur = Record{}
	}
	next := cur
	next.Key = key
	st.UpdatedAt = now
	next.Member = st
	if _, _, err := s.put(ctx, next); err != nil {
		return false, fmt.Errorf("publish status: %w", err)
	}
	s.mu.Lock()
	s.beat = heartbeat{status: st, written: now}
	s.mu.Unlock()
	return true, nil
}
