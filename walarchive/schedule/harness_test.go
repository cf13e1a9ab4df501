package schedule

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/tenure-pg/tenure/walarchive/basebackup"
	"github.com/tenure-pg/tenure/walarchive/catalog"
	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/storage"
)

// t0 is when the runners under test start: 2026-11-23 10:30 UTC.
var t0 = time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)

// at is 2026-11-23 hh:mm UTC.
func at(hh, mm int) time.Time { return time.Date(2026, 11, 23, hh, mm, 0, 0, time.UTC) }

var testArchive = layout.Archive{Cluster: "alpha", UID: "u1", Major: 15}

const testDSN = "host=127.0.0.9 dbname=postgres"

// harness runs a Runner on a fake clock. It hands the clock forward only
// while Run is blocked on it (the waiting hook tells it when and for how
// long), so every step of the loop happens at a known fake time and the
// test never sleeps.
type harness struct {
	t      testing.TB
	clk    *clocktesting.FakeClock
	store  storage.Store
	arch   layout.Archive
	r      *Runner
	leader atomic.Bool
	dsn    string // what Source answers; set before start

	waits  chan time.Duration
	wakeAt time.Time // when the blocked Run wakes; zero while not known
	within time.Duration
	cancel context.CancelFunc
	done   chan error

	mu       sync.Mutex
	takes    []time.Time // fake time of each take call
	failNext int         // fail this many takes
	took     time.Duration
	allWaits []time.Duration
}

func newHarness(t testing.TB, cfg Config, store storage.Store, arch layout.Archive) *harness {
	t.Helper()
	h := &harness{t: t, clk: clocktesting.NewFakeClock(t0), store: store, arch: arch,
		waits: make(chan time.Duration), within: 10 * time.Second, dsn: testDSN}
	h.leader.Store(true)
	r, err := New(cfg, Deps{Store: store, Archive: arch, Clock: h.clk,
		Log:    hclog.New(&hclog.LoggerOptions{Name: "schedule", Level: hclog.Debug, Output: testWriter{t}}),
		Source: func() (string, bool) { return h.dsn, h.leader.Load() }})
	if err != nil {
		t.Fatal(err)
	}
	r.take = h.fakeTake
	h.r = r
	return h
}

// start runs the Runner until the test ends.
func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	h.r.waiting = func(d time.Duration) {
		select {
		case h.waits <- d:
		case <-ctx.Done():
		}
	}
	go func() { h.done <- h.r.Run(ctx) }()
	h.t.Cleanup(h.stop)
}

// stop cancels Run and checks that it returns nil promptly.
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run returned %v, want nil", err)
		}
	case <-time.After(h.within):
		h.t.Errorf("Run did not return within %v of cancel", h.within)
	}
}

// blocked waits until Run blocks on the clock and returns for how long.
func (h *harness) blocked() time.Duration {
	h.t.Helper()
	select {
	case d := <-h.waits:
		h.mu.Lock()
		h.allWaits = append(h.allWaits, d)
		h.mu.Unlock()
		return d
	case err := <-h.done:
		h.t.Fatalf("Run returned early: %v", err)
	case <-time.After(h.within):
		h.t.Fatalf("Run did not block on its clock within %v (now %s)", h.within, h.clk.Now())
	}
	return 0
}

// runUntil moves the fake clock to end, waking Run each time its timer
// is due; it returns with Run blocked on the clock.
func (h *harness) runUntil(end time.Time) {
	h.t.Helper()
	for {
		if h.wakeAt.IsZero() {
			d := h.blocked() // before reading the clock: a backup moves it
			h.wakeAt = h.clk.Now().Add(d)
		}
		if h.wakeAt.After(end) {
			h.clk.SetTime(end)
			return
		}
		h.clk.SetTime(h.wakeAt)
		h.wakeAt = time.Time{}
	}
}

// fakeTake records the call and, unless told to fail, stores a completed
// backup that started at the fake now and took h.took.
func (h *harness) fakeTake(ctx context.Context, dsn string, cfg basebackup.Config) (catalog.Meta, error) {
	if dsn != testDSN {
		return catalog.Meta{}, fmt.Errorf("take from %q, want the Source's %q", dsn, testDSN)
	}
	h.mu.Lock()
	start := h.clk.Now()
	h.takes = append(h.takes, start)
	fail := h.failNext > 0
	if fail {
		h.failNext--
	}
	took := h.took
	h.mu.Unlock()
	if fail {
		return catalog.Meta{}, errors.New("injected backup failure")
	}
	h.clk.Step(took)
	m := testMeta(start, cfg.Now())
	return m, storeBackup(ctx, cfg.Store, cfg.Archive, m)
}

func testMeta(start, stop time.Time) catalog.Meta {
	return catalog.Meta{Format: catalog.FormatVersion, ID: catalog.NewID(start), Timeline: 1, StopTimeline: 1,
		StartLSN: 0x2000028, StopLSN: 0x2000100, StartTime: start, StopTime: stop, WALSegmentSize: 16 << 20,
		Archives: []catalog.Archive{{Name: "base.tar"}}}
}

// storeBackup stores a completed backup as basebackup.Take leaves it.
func storeBackup(ctx context.Context, st storage.Store, arch layout.Archive, m catalog.Meta) error {
	if err := st.Put(ctx, arch.Backup(m.ID, "base.tar"), strings.NewReader("tar")); err != nil {
		return err
	}
	return catalog.Write(ctx, st, arch, m)
}

// takeTimes are the fake times of the take calls so far, as "15:04".
func (h *harness) takeTimes() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var s []string
	for _, t := range h.takes {
		s = append(s, t.Format("15:04"))
	}
	return strings.Join(s, " ")
}

// completed lists the IDs of the completed backups in the store.
func (h *harness) completed() []string {
	h.t.Helper()
	l, err := catalog.List(context.Background(), h.store, h.arch)
	if err != nil {
		h.t.Fatal(err)
	}
	var ids []string
	for _, m := range l.Complete {
		ids = append(ids, m.ID)
	}
	return ids
}

// testWriter sends the runner's log to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
