package schedule

import (
	"context"
	"errors"
	"iter"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenure-pg/tenure/walarchive/basebackup"
	"github.com/tenure-pg/tenure/walarchive/catalog"
	"github.com/tenure-pg/tenure/walarchive/retention"
	"github.com/tenure-pg/tenure/walarchive/storage"
	"github.com/tenure-pg/tenure/walarchive/storage/memstore"
)

const hourly = "0 * * * *"

func TestRunnerOncePerSlot(t *testing.T) {
	h := newHarness(t, Config{Schedule: hourly}, memstore.New(), testArchive)
	h.took = 90 * time.Second
	h.start()
	h.runUntil(at(13, 30))
	if got, want := h.takeTimes(), "11:00 12:00 13:00"; got != want {
		t.Errorf("backups at %s, want %s", got, want)
	}
	if diff := cmp.Diff([]string{"20261123T110000Z", "20261123T120000Z", "20261123T130000Z"}, h.completed()); diff != "" {
		t.Errorf("catalogue (-want +got):\n%s", diff)
	}
	// No busy loop: every sleep is positive and at most Recheck.
	for _, d := range h.allWaits {
		if d <= 0 || d > Recheck {
			t.Errorf("slept %v: want 0 < d <= %v", d, Recheck)
		}
	}
	s := h.r.Status()
	want := Status{Schedule: hourly, Active: true, Next: at(14, 0), LastBackupID: "20261123T130000Z",
		LastSuccess: at(13, 0).Add(90 * time.Second), LastDuration: 90 * time.Second,
		Failures: map[Stage]uint64{StageCatalog: 0, StageBackup: 0, StageRetention: 0}}
	if diff := cmp.Diff(want, s, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "NextReason" }, cmp.Ignore())); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if !strings.Contains(s.NextReason, "next slot 2026-11-23T14:00:00Z") {
		t.Errorf("next reason %q", s.NextReason)
	}
}

func TestRunnerImmediate(t *testing.T) {
	h := newHarness(t, Config{Schedule: hourly, Immediate: true}, memstore.New(), testArchive)
	h.start()
	h.runUntil(at(11, 30))
	if got, want := h.takeTimes(), "10:30 11:00"; got != want {
		t.Errorf("backups at %s, want %s", got, want)
	}
}

// TestRunnerOnlyWhileSource: a member that is not the source takes no
// backup and reads nothing; once it is, it catches up the missed slots
// with one backup; when it stops being the source, it stops.
func TestRunnerOnlyWhileSource(t *testing.T) {
	st := &countingStore{Store: memstore.New()}
	h := newHarness(t, Config{Schedule: hourly}, st, testArchive)
	h.leader.Store(false)
	h.start()
	h.runUntil(at(12, 45))
	if got := h.takeTimes(); got != "" {
		t.Errorf("backups at %s while not the source", got)
	}
	if n := st.lists.Load(); n != 0 {
		t.Errorf("%d store listings while not the source", n)
	}
	for _, d := range h.allWaits {
		if d != Recheck {
			t.Errorf("slept %v while not the source, want %v", d, Recheck)
		}
	}
	if s := h.r.Status(); s.Active || !s.Next.IsZero() {
		t.Errorf("status %+v: want inactive with no next", s)
	}

	h.leader.Store(true)
	h.runUntil(at(13, 30))
	if got, want := h.takeTimes(), "12:45 13:00"; got != want {
		t.Errorf("backups at %s, want %s (one catch-up within Recheck, then the 13:00 slot)", got, want)
	}
	if s := h.r.Status(); !s.Active || !s.Next.Equal(at(14, 0)) {
		t.Errorf("status %+v: want active, next 14:00", s)
	}

	h.leader.Store(false)
	h.runUntil(at(16, 30))
	if got, want := h.takeTimes(), "12:45 13:00"; got != want {
		t.Errorf("backups at %s after losing the source, want still %s", got, want)
	}
	if s := h.r.Status(); s.Active || !s.Next.IsZero() || s.LastBackupID != "20261123T130000Z" {
		t.Errorf("status %+v: want inactive, no next, last backup still shown", s)
	}
}

// TestRunnerStatusOnBecomingSource: a member that becomes the source
// reads the catalogue at once, so its status shows the backup another
// member took meanwhile and its next slot, not blanks until the slot.
func TestRunnerStatusOnBecomingSource(t *testing.T) {
	st := memstore.New()
	h := newHarness(t, Config{Schedule: hourly}, st, testArchive)
	h.start()
	h.runUntil(at(11, 10))
	h.leader.Store(false)
	h.runUntil(at(11, 20))
	other := testMeta(at(11, 15), at(11, 16))
	if err := storeBackup(context.Background(), st, testArchive, other); err != nil {
		t.Fatal(err)
	}
	h.leader.Store(true)
	h.runUntil(at(11, 21))
	if s := h.r.Status(); !s.Active || s.LastBackupID != other.ID || !s.Next.Equal(at(12, 0)) {
		t.Errorf("status %+v: want active, last backup %s, next 12:00", s, other.ID)
	}
	if got, want := h.takeTimes(), "11:00"; got != want {
		t.Errorf("backups at %s, want %s", got, want)
	}
}

// TestRunnerReadsLastBackupFromCatalogue: the state that matters lives in
// the archive, so a runner that just started (a new leader, a restarted
// agent) neither repeats the current slot nor repeats missed ones.
func TestRunnerReadsLastBackupFromCatalogue(t *testing.T) {
	for _, tt := range []struct {
		name      string
		existing  time.Time
		immediate bool
		want      string
	}{
		{"the old leader's backup covers the current slot", at(10, 0).Add(5 * time.Second), true, "11:00 12:00"},
		{"missed slots are caught up once", at(7, 0).Add(5 * time.Second), false, "10:30 11:00 12:00"},
		{"a manual backup between slots does not move the schedule", at(10, 20), false, "11:00 12:00"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := memstore.New()
			if err := storeBackup(context.Background(), st, testArchive, testMeta(tt.existing, tt.existing.Add(time.Minute))); err != nil {
				t.Fatal(err)
			}
			h := newHarness(t, Config{Schedule: hourly, Immediate: tt.immediate}, st, testArchive)
			h.start()
			h.runUntil(at(12, 30))
			if got := h.takeTimes(); got != tt.want {
				t.Errorf("backups at %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRunnerRetriesAfterFailure(t *testing.T) {
	h := newHarness(t, Config{Schedule: hourly}, memstore.New(), testArchive)
	h.failNext = 3
	h.start()
	h.runUntil(at(11, 5))
	// Backoff 1, 2, 4 minutes after each failure.
	if got, want := h.takeTimes(), "11:00 11:01 11:03"; got != want {
		t.Errorf("attempts at %s, want %s", got, want)
	}
	s := h.r.Status()
	if s.Failures[StageBackup] != 3 || s.LastStage != StageBackup || !strings.Contains(s.LastError, "injected backup failure") ||
		!strings.Contains(s.LastError, "slot 2026-11-23T11:00:00Z") || !s.LastFailure.Equal(at(11, 3)) || !s.Next.Equal(at(11, 7)) {
		t.Errorf("status after 3 failures: %+v", s)
	}
	h.runUntil(at(12, 30))
	if got, want := h.takeTimes(), "11:00 11:01 11:03 11:07 12:00"; got != want {
		t.Errorf("attempts at %s, want %s (success at 11:07, then back on schedule)", got, want)
	}
	if diff := cmp.Diff([]string{"20261123T110700Z", "20261123T120000Z"}, h.completed()); diff != "" {
		t.Errorf("catalogue (-want +got):\n%s", diff)
	}
}

func TestBackoff(t *testing.T) {
	var got []time.Duration
	for n := 1; n <= 9; n++ {
		got = append(got, backoff(n))
	}
	m := time.Minute
	want := []time.Duration{m, 2 * m, 4 * m, 8 * m, 16 * m, 32 * m, time.Hour, time.Hour, time.Hour}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("backoff (-want +got):\n%s", diff)
	}
}

// TestRunnerCatalogueOutage: an unreadable catalogue is a counted
// failure, retried with backoff, and no backup is taken blind.
func TestRunnerCatalogueOutage(t *testing.T) {
	st := &countingStore{Store: memstore.New()}
	st.failLists.Store(true)
	h := newHarness(t, Config{Schedule: hourly, Immediate: true}, st, testArchive)
	h.start()
	h.runUntil(at(10, 36))
	if got := h.takeTimes(); got != "" {
		t.Errorf("backups at %s with the catalogue unreadable", got)
	}
	// Reads at 10:30, 10:31, 10:33: backoff 1, 2, then 4 minutes.
	s := h.r.Status()
	if n := st.lists.Load(); n != 3 || s.Failures[StageCatalog] != 3 || !strings.Contains(s.LastError, "S3 is down") {
		t.Errorf("%d listings, status %+v: want 3 failed reads", n, s)
	}
	st.failLists.Store(false)
	h.runUntil(at(10, 40))
	if got, want := h.takeTimes(), "10:37"; got != want {
		t.Errorf("backups at %s, want %s", got, want)
	}
}

func TestRunnerRetention(t *testing.T) {
	st := &countingStore{Store: memstore.New()}
	h := newHarness(t, Config{Schedule: hourly, Retention: &retention.Policy{KeepLast: 1}}, st, testArchive)
	h.start()
	h.runUntil(at(12, 30))
	if diff := cmp.Diff([]string{"20261123T120000Z"}, h.completed()); diff != "" {
		t.Errorf("catalogue after KeepLast 1 (-want +got):\n%s", diff)
	}

	// A failed retention run is counted but holds back no backup.
	st.failDeletes.Store(true)
	h.runUntil(at(13, 0))
	if s := h.r.Status(); s.Failures[StageRetention] != 1 || !s.Next.Equal(at(14, 0)) {
		t.Errorf("status %+v: want 1 retention failure, next 14:00 (no retry)", s)
	}
	h.runUntil(at(14, 30))
	if got, want := h.takeTimes(), "11:00 12:00 13:00 14:00"; got != want {
		t.Errorf("backups at %s, want %s", got, want)
	}
	s := h.r.Status()
	if s.Failures[StageRetention] != 2 || s.Failures[StageBackup] != 0 || s.LastStage != StageRetention || !s.Next.Equal(at(15, 0)) {
		t.Errorf("status %+v: want 2 retention failures, next 15:00", s)
	}
	st.failDeletes.Store(false)
	h.runUntil(at(15, 30))
	if diff := cmp.Diff([]string{"20261123T150000Z"}, h.completed()); diff != "" {
		t.Errorf("catalogue once deletes work again (-want +got):\n%s", diff)
	}
}

func TestRunnerRunsOnce(t *testing.T) {
	h := newHarness(t, Config{Schedule: hourly}, memstore.New(), testArchive)
	h.start()
	h.blocked()
	if err := h.r.Run(context.Background()); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run: %v, want ErrRunning", err)
	}
	h.stop() // fails the test unless Run returns nil promptly
	if s := h.r.Status(); s.Active || !s.Next.IsZero() {
		t.Errorf("status %+v after Run returned: want inactive", s)
	}
}

// TestRunnerCancelledBackup: a backup cut short by the agent's context
// is not a failure.
func TestRunnerCancelledBackup(t *testing.T) {
	h := newHarness(t, Config{Schedule: hourly, Immediate: true}, memstore.New(), testArchive)
	started := make(chan struct{})
	h.r.take = func(ctx context.Context, _ string, _ basebackup.Config) (catalog.Meta, error) {
		close(started)
		<-ctx.Done()
		return catalog.Meta{}, ctx.Err()
	}
	h.start()
	select {
	case <-started:
	case <-time.After(h.within):
		t.Fatal("no backup started")
	}
	h.stop()
	if s := h.r.Status(); s.Failures[StageBackup] != 0 || s.Running {
		t.Errorf("status %+v after a cancelled backup", s)
	}
}

func TestNewRefuses(t *testing.T) {
	_, err := New(Config{Schedule: "0 3 * *"}, Deps{Archive: testArchive})
	for _, want := range []string{`"0 3 * *"`, "no store", "no source"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New: %v: want it to contain %q", err, want)
		}
	}
}

// countingStore counts listings and injects List and Delete failures.
type countingStore struct {
	storage.Store
	lists       atomic.Int64
	failLists   atomic.Bool
	failDeletes atomic.Bool
}

func (s *countingStore) List(ctx context.Context, prefix string) iter.Seq2[storage.Info, error] {
	s.lists.Add(1)
	if s.failLists.Load() {
		return func(yield func(storage.Info, error) bool) { yield(storage.Info{}, errors.New("S3 is down")) }
	}
	return s.Store.List(ctx, prefix)
}

func (s *countingStore) Delete(ctx context.Context, key string) error {
	if s.failDeletes.Load() {
		return errors.New("delete refused")
	}
	return s.Store.Delete(ctx, key)
}

// TestRunnerListingLag: a store whose listing has not caught up with the
// backup just written (an NFS attribute cache, an eventually consistent
// S3 clone) must not make the same slot look due again.
func TestRunnerListingLag(t *testing.T) {
	st := &laggingStore{Store: memstore.New()}
	h := newHarness(t, Config{Schedule: hourly, Immediate: true}, st, testArchive)
	fake := h.r.take
	h.r.take = func(ctx context.Context, dsn string, cfg basebackup.Config) (catalog.Meta, error) {
		m, err := fake(ctx, dsn, cfg)
		st.hide.Store(m.ID)
		return m, err
	}
	h.start()
	h.runUntil(at(11, 30))
	if got, want := h.takeTimes(), "10:30 11:00"; got != want {
		t.Errorf("backups at %s, want %s", got, want)
	}
	if s := h.r.Status(); s.Failures[StageBackup] != 0 || s.LastBackupID != "20261123T110000Z" {
		t.Errorf("status %+v", s)
	}
}

// laggingStore leaves the backup named by hide out of listings.
type laggingStore struct {
	storage.Store
	hide atomic.Value // string
}

func (s *laggingStore) List(ctx context.Context, prefix string) iter.Seq2[storage.Info, error] {
	hide, _ := s.hide.Load().(string)
	return func(yield func(storage.Info, error) bool) {
		for info, err := range s.Store.List(ctx, prefix) {
			if err == nil && hide != "" && strings.Contains(info.Key, "/"+hide+"/") {
				continue
			}
			if !yield(info, err) {
				return
			}
		}
	}
}
