package schedule

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"k8s.io/utils/clock"

	"github.com/tenure-pg/tenure/walarchive/basebackup"
	"github.com/tenure-pg/tenure/walarchive/catalog"
	"github.com/tenure-pg/tenure/walarchive/codec"
	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/storage"
)

// Timing of the loop.
const (
	// Recheck is the longest the runner sleeps: how soon it notices that
	// this member became the source. Checking costs one call of Source,
	// no store request.
	Recheck = 10 * time.Second
	// RetryMin and RetryMax bound the backoff after a failure, doubling
	// per consecutive failure: a primary restarting or a short S3 outage
	// is retried within a minute, a persistent fault at most hourly
	// rather than re-reading the database every minute.
	RetryMin = time.Minute
	RetryMax = time.Hour
)

// ErrRunning: Run was called while another Run of the same Runner is
// still going.
var ErrRunning = errors.New("backup schedule is already running")

// Deps is what the Runner needs from the agent.
type Deps struct {
	Store   storage.Store
	Archive layout.Archive
	Codec   codec.Options // with the key, as wal.Config.CodecOptions returns
	Log     hclog.Logger  // default: no logging
	Clock   clock.Clock   // default: the real clock
	// Source returns the DSN to back up from, ok only while this member
	// is the leader with a writable primary. It is called about once a
	// minute and before every backup, so it must be quick (no I/O).
	Source func() (dsn string, ok bool)
}

// Validate reports every problem with d at once.
func (d Deps) Validate() error {
	var errs []error
	if d.Store == nil {
		errs = append(errs, errors.New("no store"))
	}
	if d.Source == nil {
		errs = append(errs, errors.New("no source"))
	}
	if err := d.Archive.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := d.Codec.Default().Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Runner takes scheduled backups; see the package doc.
type Runner struct {
	cfg   Config
	sched Schedule
	deps  Deps
	log   hclog.Logger
	clock clock.Clock

	// take is basebackup.Take; tests substitute it.
	take func(ctx context.Context, dsn string, cfg basebackup.Config) (catalog.Meta, error)
	// waiting, if set, is called each time Run blocks on its clock, after
	// the timer is set: tests step a fake clock from it.
	waiting func(d time.Duration)

	running atomic.Bool
	loop    loopState // owned by Run's goroutine

	mu       sync.Mutex
	status   Status
	failures map[Stage]uint64
}

// loopState is what Run carries from one step to the next. None of it
// is needed across a restart: the catalogue is re-read at start.
type loopState struct {
	since   time.Time // when Run started
	active  bool      // Source was ok at the last step
	stale   bool      // the catalogue must be re-read before trusting next
	next    time.Time // from the last decision: nothing is due before it
	fails   int       // consecutive failures of the catalogue or backup stage
	retryAt time.Time // no attempt before it
	// taken is the start time of the last backup this runner completed:
	// a lower bound for the catalogue's newest, so a store whose listing
	// lags behind a write cannot make the same slot look due twice.
	taken time.Time
}

// New checks cfg and deps and makes a Runner.
func New(cfg Config, deps Deps) (*Runner, error) {
	if err := errors.Join(cfg.Validate(), deps.Validate()); err != nil {
		return nil, fmt.Errorf("backup schedule: %w", err)
	}
	sched, err := Parse(cfg.Schedule)
	if err != nil {
		return nil, err
	}
	if cfg.Retention != nil {
		p := *cfg.Retention // the caller's copy may change; ours does not
		cfg.Retention = &p
	}
	if deps.Log == nil {
		deps.Log = hclog.NewNullLogger()
	}
	if deps.Clock == nil {
		deps.Clock = clock.RealClock{}
	}
	return &Runner{cfg: cfg, sched: sched, deps: deps, log: deps.Log, clock: deps.Clock,
		take: basebackup.Take, status: Status{Schedule: sched.String()}, failures: map[Stage]uint64{}}, nil
}

// Run runs the schedule until ctx ends, then returns nil. Failures are
// logged, counted in Status and retried; they never end Run. A second
// concurrent Run returns ErrRunning.
func (r *Runner) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer r.running.Store(false)
	defer r.setActive(false) // a stopped runner runs no schedule
	r.loop = loopState{since: r.clock.Now(), stale: true}
	r.log.Info("backup schedule started", "schedule", r.sched.String(), "immediate", r.cfg.Immediate,
		"retention", r.cfg.Retention != nil)
	for ctx.Err() == nil {
		wait := r.step(ctx)
		if wait > 0 && !r.sleep(ctx, wait) {
			break
		}
	}
	return nil
}

// sleep waits d on the clock; false if ctx ended first.
func (r *Runner) sleep(ctx context.Context, d time.Duration) bool {
	t := r.clock.NewTimer(d)
	defer t.Stop()
	if r.waiting != nil {
		r.waiting(d)
	}
	select {
	case <-ctx.Done():
		return false
	case <-t.C():
		return true
	}
}

// backoff is the wait after the n-th consecutive failure (n >= 1).
func backoff(n int) time.Duration {
	d := RetryMin
	for i := 1; i < n && d < RetryMax; i++ {
		d *= 2
	}
	return min(d, RetryMax)
}
