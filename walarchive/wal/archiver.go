package wal

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/tenure-pg/tenure/walarchive/codec"
	"github.com/tenure-pg/tenure/walarchive/storage"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotArchived: the archive holds no such file. Only a missing
	// object wraps it, never an unreachable store: restore_command ends
	// recovery on "not archived", and ending it because S3 was down for a
	// minute loses every transaction after that point.
	ErrNotArchived = errors.New("not in the archive")
	// ErrConflict: the archive already holds different bytes under the
	// name. The archived object is kept and the new bytes are stored under
	// a conflict key; the error names both.
	ErrConflict = errors.New("archive holds different content under this name")
)

// Archiver pushes files from pg_wal to the archive and fetches them back.
// It is safe for concurrent use.
type Archiver struct {
	cfg   Config
	store storage.Store
	log   hclog.Logger
	opts  codec.Options // with the key
	slots chan struct{} // Concurrency
	now   func() time.Time

	mu     sync.Mutex
	status Status
}

// Status summarises what this Archiver did since it was made. Plain
// counts in memory: a wal-push process lives for one file, the agent's
// WAL service for the pod's lifetime.
type Status struct {
	LastArchived   string    // file name
	LastArchivedAt time.Time // zero if none
	LastFailed     string
	LastFailedAt   time.Time
	LastError      string
	Archived       uint64 // files pushed, identical re-pushes included
	Failed         uint64 // failed pushes
	ArchivedBytes  uint64 // bytes of the files pushed, before compression
	StoredBytes    uint64 // bytes uploaded, after compression and encryption
	Fetched        uint64
	FetchFailed    uint64 // not-archived answers excluded
}

// New makes an Archiver for cfg (defaults applied, validated) over store,
// reading the encryption key from cfg.KeyFile if set.
func New(cfg Config, store storage.Store, log hclog.Logger) (*Archiver, error) {
	cfg = cfg.Default()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, errors.New("wal archiver: nil store")
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	opts, err := cfg.CodecOptions()
	if err != nil {
		return nil, err
	}
	return &Archiver{cfg: cfg, store: store, log: log, opts: opts,
		slots: make(chan struct{}, cfg.Concurrency), now: time.Now}, nil
}

// Status returns a copy of the current status.
func (a *Archiver) Status() Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status
}

// acquire waits for one of Concurrency slots and bounds the call by
// Timeout; the returned function releases both.
func (a *Archiver) acquire(ctx context.Context) (context.Context, func(), error) {
	select {
	case a.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(a.cfg.Timeout))
	return ctx, func() { cancel(); <-a.slots }, nil
}

func (a *Archiver) pushed(name string, plain, stored int64, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := &a.status
	if err != nil {
		s.Failed++
		s.LastFailed, s.LastFailedAt, s.LastError = name, a.now(), err.Error()
		return
	}
	s.Archived++
	s.ArchivedBytes += uint64(plain)
	s.StoredBytes += uint64(stored)
	s.LastArchived, s.LastArchivedAt = name, a.now()
}

func (a *Archiver) fetched(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case err == nil:
		a.status.Fetched++
	case !errors.Is(err, ErrNotArchived):
		a.status.FetchFailed++
	}
}

// key is the archive key of a WAL file name.
func (a *Archiver) key(name string) string { return a.cfg.Archive.WAL(name) }

func errorf(op, name string, err error) error {
	return fmt.Errorf("%s %s: %w", op, name, err)
}

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
