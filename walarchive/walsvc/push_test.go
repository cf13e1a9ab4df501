package walsvc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A push of the first ready file uploads the whole backlog in parallel,
// and postgres's later requests are answered without uploading again.
func TestPushLooksAheadConcurrently(t *testing.T) {
	data := dataDir(t)
	var names []string
	for i := 1; i <= 20; i++ {
		names = append(names, seg(i))
	}
	ready(t, data, names...)
	p := newFakePusher(true)
	s := serve(t, testConfig(data), p, newFakeFetcher())
	sock := SocketPath(data)

	first := make(chan error, 1)
	go func() { first <- Push(context.Background(), sock, filepath.Join(data, "pg_wal", names[0])) }()
	eventually(t, "4 uploads in flight", func() bool { _, _, n, _, _ := p.snapshot(); return n == DefaultConcurrency })
	if got := testutil.ToFloat64(s.m.inFlight); got != DefaultConcurrency {
		t.Errorf("push_in_flight = %v, want %d", got, DefaultConcurrency)
	}
	if got := testutil.ToFloat64(s.m.queueDepth); got != float64(len(names)-DefaultConcurrency) {
		t.Errorf("push_queue_depth = %v, want %d", got, len(names)-DefaultConcurrency)
	}
	close(p.gate)
	if err := <-first; err != nil {
		t.Fatalf("push %s: %v", names[0], err)
	}
	eventually(t, "the backlog uploaded", func() bool { _, n, _, _, _ := p.snapshot(); return n == len(names) })
	archived(t, data, names[0])
	for _, n := range names[1:] {
		if err := Push(context.Background(), sock, filepath.Join(data, "pg_wal", n)); err != nil {
			t.Fatalf("push %s: %v", n, err)
		}
		archived(t, data, n)
	}
	attempts, _, _, maxInFlight, _ := p.snapshot()
	if maxInFlight != DefaultConcurrency {
		t.Errorf("max uploads in flight = %d, want %d", maxInFlight, DefaultConcurrency)
	}
	for _, n := range names {
		if attempts[n] != 1 {
			t.Errorf("%s uploaded %d times, want once", n, attempts[n])
		}
	}
}

// Uploads follow postgres's own order (history files, then WAL order),
// except that the file a client waits for goes first.
func TestPushOrder(t *testing.T) {
	data := dataDir(t)
	ready(t, data, seg(3), seg(1), "00000002.history", seg(2), seg(5))
	p := newFakePusher(false)
	cfg := testConfig(data)
	cfg.Concurrency = 1
	serve(t, cfg, p, newFakeFetcher())
	if err := Push(context.Background(), SocketPath(data), filepath.Join(data, "pg_wal", seg(2))); err != nil {
		t.Fatal(err)
	}
	eventually(t, "all uploaded", func() bool { _, n, _, _, _ := p.snapshot(); return n == 5 })
	_, _, _, _, started := p.snapshot()
	want := []string{seg(2), "00000002.history", seg(1), seg(3), seg(5)}
	if diff := cmp.Diff(want, started); diff != "" {
		t.Errorf("upload order (-want +got):\n%s", diff)
	}
}

// A failed upload is reported to the client that waits for it, not to
// others; the next request for it uploads it again.
func TestPushFailureReportedAndRetried(t *testing.T) {
	data := dataDir(t)
	ready(t, data, seg(1), seg(2), seg(3))
	p := newFakePusher(false)
	p.fail[seg(2)] = 1
	s := serve(t, testConfig(data), p, newFakeFetcher())
	sock := SocketPath(data)
	push := func(n string) error { return Push(context.Background(), sock, filepath.Join(data, "pg_wal", n)) }

	if err := push(seg(1)); err != nil {
		t.Fatalf("push %s: %v", seg(1), err)
	}
	eventually(t, "the look-ahead to finish", func() bool {
		return testutil.ToFloat64(s.m.uploads.WithLabelValues("error")) == 1 &&
			testutil.ToFloat64(s.m.uploads.WithLabelValues("ok")) == 2
	})
	archived(t, data, seg(1))
	if err := push(seg(2)); err != nil {
		t.Fatalf("push %s after a failed look-ahead: %v", seg(2), err)
	}
	if a, _, _, _, _ := p.snapshot(); a[seg(2)] != 2 {
		t.Errorf("%s attempted %d times, want 2 (failed look-ahead, then the request)", seg(2), a[seg(2)])
	}

	// A failure of the requested file itself goes back to its client.
	archived(t, data, seg(2))
	p.mu.Lock()
	p.fail[seg(4)] = 1
	p.mu.Unlock()
	ready(t, data, seg(4))
	err := push(seg(4))
	if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "injected failure of "+seg(4)) {
		t.Fatalf("push %s = %v, want ErrFailed with the cause", seg(4), err)
	}
	if err := push(seg(4)); err != nil {
		t.Fatalf("retry of %s: %v", seg(4), err)
	}
}

// Concurrent requests for one file share one upload.
func TestPushDuplicateRequestsShareOneUpload(t *testing.T) {
	data := dataDir(t)
	ready(t, data, seg(7))
	p := newFakePusher(true)
	s := serve(t, testConfig(data), p, newFakeFetcher())
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for range 5 {
		wg.Go(func() { errs <- Push(context.Background(), SocketPath(data), filepath.Join(data, "pg_wal", seg(7))) })
	}
	eventually(t, "5 requests in", func() bool {
		return testutil.ToFloat64(s.m.inFlight) == 1 && waiting(s, seg(7))
	})
	close(p.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if a, _, _, _, _ := p.snapshot(); a[seg(7)] != 1 {
		t.Errorf("%s uploaded %d times for 5 concurrent requests, want once", seg(7), a[seg(7)])
	}
}

// waiting reports whether name's upload runs (duplicates join it).
func waiting(s *Server, name string) bool {
	s.push.mu.Lock()
	defer s.push.mu.Unlock()
	up := s.push.files[name]
	return up != nil && up.running
}

// A file rewritten after its upload is not answered from memory.
func TestPushChangedFileUploadsAgain(t *testing.T) {
	data := dataDir(t)
	ready(t, data, seg(1))
	p := newFakePusher(false)
	serve(t, testConfig(data), p, newFakeFetcher())
	path := filepath.Join(data, "pg_wal", seg(1))
	for i := range 2 {
		if err := Push(context.Background(), SocketPath(data), path); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(path, later, later); err != nil {
				t.Fatal(err)
			}
		}
	}
	if a, _, _, _, _ := p.snapshot(); a[seg(1)] != 2 {
		t.Errorf("attempts = %d, want 2 (the file changed)", a[seg(1)])
	}
}

// Uploads are forgotten once postgres has marked them done.
func TestPushForgetsDoneFiles(t *testing.T) {
	data := dataDir(t)
	ready(t, data, seg(1), seg(2))
	p := newFakePusher(false)
	s := serve(t, testConfig(data), p, newFakeFetcher())
	push := func(n string) {
		t.Helper()
		if err := Push(context.Background(), SocketPath(data), filepath.Join(data, "pg_wal", n)); err != nil {
			t.Fatal(err)
		}
	}
	push(seg(1))
	eventually(t, "both uploaded", func() bool { _, n, _, _, _ := p.snapshot(); return n == 2 })
	archived(t, data, seg(1))
	push(seg(2))
	archived(t, data, seg(2))
	ready(t, data, seg(3))
	push(seg(3)) // its scan forgets 1 and 2
	s.push.mu.Lock()
	var known []string
	for n := range s.push.files {
		known = append(known, n)
	}
	s.push.mu.Unlock()
	if diff := cmp.Diff([]string{seg(3)}, known); diff != "" {
		t.Errorf("remembered uploads (-want +got):\n%s", diff)
	}
}
