package walsvc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tenure-pg/tenure/walarchive/walname"
)

// spooled lists the complete files in the prefetch spool.
func spooled(t *testing.T, data string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(data, spoolName))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".tmp" {
			names = append(names, e.Name())
		}
	}
	return names
}

func fetchTo(t *testing.T, data, name string) error {
	t.Helper()
	dest := filepath.Join(data, "pg_wal", "RECOVERYXLOG")
	if err := Fetch(context.Background(), SocketPath(data), name, dest); err != nil {
		return err
	}
	b, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "content of "+name {
		t.Fatalf("%s restored as %q", name, b)
	}
	return nil
}

// The first fetch misses and fills the spool with the next segments; the
// following fetches are served from it without asking the archive again.
// The window stops at the end of the archive and never exceeds Prefetch.
func TestFetchPrefetchesNextSegments(t *testing.T) {
	data := dataDir(t)
	f := newFakeFetcher(seg(1), seg(2), seg(3), seg(4), seg(5))
	cfg := testConfig(data)
	cfg.Prefetch, cfg.Concurrency = 3, 1 // one download at a time: a deterministic order
	s := serve(t, cfg, newFakePusher(false), f)

	if err := fetchTo(t, data, seg(1)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "segments 2-4 spooled", func() bool { return slices.Equal(spooled(t, data), []string{seg(2), seg(3), seg(4)}) })
	for i := 2; i <= 5; i++ {
		if err := fetchTo(t, data, seg(i)); err != nil {
			t.Fatalf("fetch %s: %v", seg(i), err)
		}
		if n := len(spooled(t, data)); n > cfg.Prefetch {
			t.Fatalf("spool holds %d segments, Prefetch is %d", n, cfg.Prefetch)
		}
	}
	if err := fetchTo(t, data, seg(6)); !errors.Is(err, ErrNotArchived) {
		t.Fatalf("fetch past the end = %v, want ErrNotArchived", err)
	}
	if hits, misses := testutil.ToFloat64(s.m.prefetchHits), testutil.ToFloat64(s.m.prefetchMisses); hits != 4 || misses != 2 {
		t.Errorf("hits, misses = %v, %v; want 4 (2-5), 2 (1 and the absent 6)", hits, misses)
	}
	for i := 1; i <= 5; i++ {
		if n := f.count(seg(i)); n != 1 {
			t.Errorf("archive asked for %s %d times, want once", seg(i), n)
		}
	}
}

// Prefetching stops at the first segment the archive lacks instead of
// asking for every one of the window.
func TestFetchPrefetchStopsAtGap(t *testing.T) {
	data := dataDir(t)
	f := newFakeFetcher(seg(1), seg(2))
	cfg := testConfig(data)
	cfg.Prefetch, cfg.Concurrency = 8, 1
	s := serve(t, cfg, newFakePusher(false), f)
	if err := fetchTo(t, data, seg(1)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the absent segment 3 tried", func() bool {
		return testutil.ToFloat64(s.m.prefetches.WithLabelValues("absent")) == 1
	})
	eventually(t, "no download claimed", func() bool {
		s.fetch.mu.Lock()
		defer s.fetch.mu.Unlock()
		return len(s.fetch.flights) == 0
	})
	if diff := cmp.Diff([]string{seg(1), seg(2), seg(3)}, f.askedCopy()); diff != "" {
		t.Errorf("archive requests (-want +got):\n%s", diff)
	}
}

// A fetch of a segment still being prefetched waits for that download
// instead of starting a second one.
func TestFetchJoinsDownloadInFlight(t *testing.T) {
	data := dataDir(t)
	f := newFakeFetcher(seg(1), seg(2))
	cfg := testConfig(data)
	cfg.Prefetch = 1
	s := serve(t, cfg, newFakePusher(false), f)
	if err := fetchTo(t, data, seg(1)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "segment 2 spooled", func() bool { return len(spooled(t, data)) == 1 })
	f.mu.Lock()
	f.gate = make(chan struct{})
	gate := f.gate
	f.mu.Unlock()
	// Segment 2 is served from the spool; its window starts segment 3,
	// which is absent, so it is a gated download when 3 is asked for.
	f.mu.Lock()
	f.archive[seg(3)] = []byte("content of " + seg(3))
	f.mu.Unlock()
	if err := fetchTo(t, data, seg(2)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "segment 3 in flight", func() bool { return f.count(seg(3)) == 1 })
	done := make(chan error, 1)
	go func() { done <- fetchTo(t, data, seg(3)) }()
	close(gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := f.count(seg(3)); n != 1 {
		t.Errorf("archive asked for %s %d times, want once", seg(3), n)
	}
	if hits := testutil.ToFloat64(s.m.prefetchHits); hits != 2 {
		t.Errorf("hits = %v, want 2", hits)
	}
}

// History files and partial segments are fetched as asked, never
// prefetched; invalid names are refused.
func TestFetchNonSegments(t *testing.T) {
	data := dataDir(t)
	f := newFakeFetcher("00000002.history", seg(9)+".partial", seg(10))
	s := serve(t, testConfig(data), newFakePusher(false), f)
	for _, n := range []string{"00000002.history", seg(9) + ".partial"} {
		if err := fetchTo(t, data, n); err != nil {
			t.Fatalf("fetch %s: %v", n, err)
		}
	}
	if diff := cmp.Diff([]string{"00000002.history", seg(9) + ".partial"}, f.askedCopy()); diff != "" {
		t.Errorf("archive requests (-want +got):\n%s", diff)
	}
	if hits, misses := testutil.ToFloat64(s.m.prefetchHits), testutil.ToFloat64(s.m.prefetchMisses); hits+misses != 0 {
		t.Errorf("hits, misses = %v, %v; non-segments are neither", hits, misses)
	}
	err := Fetch(context.Background(), SocketPath(data), "../../etc/passwd", filepath.Join(data, "pg_wal", "RECOVERYXLOG"))
	if !errors.Is(err, ErrBadRequest) {
		t.Errorf("fetch of a non-WAL name = %v, want ErrBadRequest", err)
	}
}

// The spool empties once recovery stops asking.
func TestFetchSpoolClearedWhenIdle(t *testing.T) {
	data := dataDir(t)
	f := newFakeFetcher(seg(1), seg(2), seg(3))
	cfg := testConfig(data)
	cfg.SpoolIdle = 100 * time.Millisecond
	serve(t, cfg, newFakePusher(false), f)
	if err := fetchTo(t, data, seg(1)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "segments spooled", func() bool { return len(spooled(t, data)) == 2 })
	eventually(t, "spool emptied after SpoolIdle", func() bool { return len(spooled(t, data)) == 0 })
}

// Eviction leaves the Fetcher's temporary files alone: deleting one
// under a download in flight failed every prefetch (seen with
// wal.Archiver, which writes a dot-file beside dest, then renames it).
func TestFetchEvictSparesDownloadsInFlight(t *testing.T) {
	data := dataDir(t)
	f := newFakeFetcher(seg(1), seg(2))
	f.midway, f.resume = make(chan string), make(chan string)
	cfg := testConfig(data)
	cfg.Prefetch = 1
	s := serve(t, cfg, newFakePusher(false), f)
	if err := fetchTo(t, data, seg(1)); err != nil {
		t.Fatal(err)
	}
	if got := <-f.midway; got != seg(2) {
		t.Fatalf("prefetching %s, want %s", got, seg(2))
	}
	s.fetch.evict(walname.Segment{Timeline: 1, No: 1})
	f.resume <- ""
	eventually(t, "segment 2 spooled", func() bool { return len(spooled(t, data)) == 1 })
	if n := testutil.ToFloat64(s.m.prefetches.WithLabelValues("error")); n != 0 {
		t.Errorf("%v prefetch downloads failed", n)
	}
}
