package leaderelect

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Store is one member's handle on its cluster's coordination state. Reads
// come from the Backend's watch; writes are compare-and-swap. Safe for
// concurrent use.
type Store struct {
	opts    Options
	be      Backend
	changes chan struct{}
	cancel  context.CancelFunc

	mu          sync.Mutex
	lock        Record
	lockSeen    time.Time // ObservedAt of lock
	lastRenewal time.Time // send time of our last successful lock write, while holder
	members     map[string]Record
	memberSeen  map[string]time.Time
	state       Record
	beat        heartbeat
}

// New validates opts, starts watching the cluster's records and returns
// once the initial list has been observed.
func New(ctx context.Context, be Backend, opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := &Store{
		opts:       opts,
		be:         be,
		changes:    make(chan struct{}, 1),
		members:    map[string]Record{},
		memberSeen: map[string]time.Time{},
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	if err := be.Watch(wctx, s.observe); err != nil {
		cancel()
		return nil, fmt.Errorf("watch cluster %s: %w", opts.Cluster, err)
	}
	return s, nil
}

// Close stops the watch.
func (s *Store) Close() { s.cancel() }

// Options returns the options the Store was made with.
func (s *Store) Options() Options { return s.opts }

// Changes receives a value after each observed change. Changes coalesce:
// one receive may stand for several; read View after it.
func (s *Store) Changes() <-chan struct{} { return s.changes }

// View returns a consistent snapshot of the cluster as observed by this
// member.
func (s *Store) View() ClusterView {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := ClusterView{
		Cluster:       s.opts.Cluster,
		Self:          s.opts.Member,
		RenewDeadline: s.opts.RenewDeadline,
		LastRenewal:   s.lastRenewal,
		Lock: LockView{
			Lock:       s.lock.Lock,
			Exists:     s.lock.Version != "",
			ObservedAt: s.lockSeen,
		},
		Members:     make(map[string]MemberView, len(s.members)),
		State:       s.state.State.clone(),
		StateExists: s.state.Version != "",
	}
	for name, rec := range s.members {
		v.Members[name] = MemberView{MemberStatus: rec.Member, ObservedAt: s.memberSeen[name]}
	}
	return v
}

// Leading is View().Leading(now) without copying the view, for hot
// paths: the commit gate asks it on every commit.
func (s *Store) Leading(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lock.Lock.Holder == s.opts.Member && !s.lastRenewal.IsZero() && now.Sub(s.lastRenewal) < s.opts.RenewDeadline
}

// observe takes a record from the watch.
func (s *Store) observe(rec Record, deleted bool) {
	s.apply(rec, deleted, s.opts.Clock.Now())
}

// apply records rec as observed at seen, unless it is older than what this
// member already knows. It reports whether anything changed.
func (s *Store) apply(rec Record, deleted bool, seen time.Time) bool {
	s.mu.Lock()
	changed := s.applyLocked(rec, deleted, seen)
	s.mu.Unlock()
	if changed {
		select {
		case s.changes <- struct{}{}:
		default:
		}
	}
	return changed
}

func (s *Store) applyLocked(rec Record, deleted bool, seen time.Time) bool {
	switch rec.Kind {
	case KindLock:
		if !newer(rec.Version, s.lock.Version, deleted) {
			return false
		}
		if deleted {
			rec = Record{Key: rec.Key}
		}
		if rec.Lock.Holder != s.opts.Member || rec.Lock.Holder != s.lock.Lock.Holder {
			// Freshness counts only from our own writes while we hold it.
			s.lastRenewal = time.Time{}
		}
		s.lock, s.lockSeen = rec, seen
	case KindMember:
		old := s.members[rec.Name]
		if !newer(rec.Version, old.Version, deleted) {
			return false
		}
		if deleted {
			delete(s.members, rec.Name)
			delete(s.memberSeen, rec.Name)
			return true
		}
		s.members[rec.Name], s.memberSeen[rec.Name] = rec, seen
	case KindState:
		if !newer(rec.Version, s.state.Version, deleted) {
			return false
		}
		if deleted {
			rec = Record{Key: rec.Key}
		}
		s.state = rec
	default:
		return false
	}
	return true
}

// newer reports whether version next should replace cur. Equal versions are
// the same write seen twice. Decimal versions (etcd revisions, memstore
// counters) are ordered so that a watch event older than a write response
// already applied is dropped; other versions are taken as they come.
func newer(next, cur string, deleted bool) bool {
	if next == cur {
		return deleted && cur != ""
	}
	n, err1 := strconv.ParseUint(next, 10, 64)
	c, err2 := strconv.ParseUint(cur, 10, 64)
	if err1 != nil || err2 != nil {
		return true
	}
	return n > c
}

// put writes rec with a fresh write id. When the outcome is unknown
// (ErrUnavailable) it re-reads the record: finding its own write id there
// proves the write landed. The returned record is applied to the view.
func (s *Store) put(ctx context.Context, rec Record) (Record, time.Time, error) {
	rec.WriteID = newWriteID()
	sent := s.opts.Clock.Now()
	cctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
	out, err := s.be.Put(cctx, rec)
	cancel()
	if errors.Is(err, ErrUnavailable) && ctx.Err() == nil {
		// The caller's deadline bounds the re-read too: a leader renewing
		// near its renew deadline must get an answer in time to demote.
		got, gerr := s.get(ctx, rec.Key)
		if gerr == nil && got.WriteID == rec.WriteID {
			out, err = got, nil
		}
	}
	if err != nil {
		return Record{}, sent, fmt.Errorf("write %s %s: %w", rec.Kind, s.keyName(rec.Key), err)
	}
	s.apply(out, false, sent)
	return out, sent, nil
}

// get reads a record from the source of truth and applies it to the view.
func (s *Store) get(ctx context.Context, key Key) (Record, error) {
	cctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
	defer cancel()
	rec, err := s.be.Get(cctx, key)
	if err != nil {
		return Record{}, fmt.Errorf("read %s %s: %w", key.Kind, s.keyName(key), err)
	}
	s.observe(rec, false)
	return rec, nil
}

func (s *Store) keyName(k Key) string {
	if k.Kind == KindMember {
		return s.opts.Cluster + "/" + k.Name
	}
	return s.opts.Cluster
}

func (s *Store) snapshot(k Key) Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch k.Kind {
	case KindLock:
		return s.lock
	case KindMember:
		return s.members[k.Name]
	default:
		rec := s.state
		rec.State = rec.State.clone()
		return rec
	}
}

func newWriteID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
