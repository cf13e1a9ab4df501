package leaderelect

import "context"

// Kind is the kind of a stored record.
type Kind int

const (
	// KindLock is the leader lock; one per cluster.
	KindLock Kind = iota + 1
	// KindMember is a member's heartbeat; Key.Name is the member.
	KindMember
	// KindState is the cluster record; one per cluster.
	KindState
)

func (k Kind) String() string {
	switch k {
	case KindLock:
		return "lock"
	case KindMember:
		return "member"
	case KindState:
		return "state"
	}
	return "unknown"
}

// Key names one record of a cluster.
type Key struct {
	Kind Kind
	Name string // the member, for KindMember; empty otherwise
}

// Record is one stored record. Exactly the field matching Key.Kind is
// meaningful.
type Record struct {
	Key
	// Version is the backend's opaque version ("" for a record not yet
	// created). Versions of one backend increase: a backend whose versions
	// are decimal integers lets the Store drop stale watch events.
	Version string
	// WriteID is an opaque token the writer puts on every write, so that it
	// can recognise its own write after a lost response.
	WriteID string
	Lock    Lock
	Member  MemberStatus
	State   State
}

// Backend is where a cluster's records live. Implementations classify every
// error as ErrConflict, ErrUnavailable, ErrForbidden or ErrNotFound
// (wrapped, with context).
type Backend interface {
	// Get reads a record directly from the source of truth, bypassing any
	// cache. ErrNotFound when it does not exist.
	Get(ctx context.Context, key Key) (Record, error)
	// Put creates the record when rec.Version is "" (ErrConflict if it
	// exists) or replaces it if its stored version is still rec.Version
	// (ErrConflict otherwise, ErrNotFound if it is gone). It returns the
	// record as stored, with its new Version.
	Put(ctx context.Context, rec Record) (Record, error)
	// Watch lists every record of the cluster, delivers each to fn, and
	// goes on delivering changes in order until ctx ends. It returns once
	// the initial list has been delivered. fn must not call the Backend.
	Watch(ctx context.Context, fn func(rec Record, deleted bool)) error
}
