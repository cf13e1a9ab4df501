package walsvc

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/tenure-pg/tenure/internal/testenv"
)

// fakePusher records uploads. With a gate, each Push blocks until the
// gate is closed; fail[name] > 0 fails that many attempts of name.
type fakePusher struct {
	gate chan struct{}

	mu          sync.Mutex
	attempts    map[string]int
	stored      map[string]bool
	started     []string
	inFlight    int
	maxInFlight int
	fail        map[string]int
}

func newFakePusher(gated bool) *fakePusher {
	p := &fakePusher{attempts: map[string]int{}, stored: map[string]bool{}, fail: map[string]int{}}
	if gated {
		p.gate = make(chan struct{})
	}
	return p
}

func (p *fakePusher) Push(ctx context.Context, path string) error {
	name := filepath.Base(path)
	p.mu.Lock()
	p.attempts[name]++
	p.started = append(p.started, name)
	p.inFlight++
	p.maxInFlight = max(p.maxInFlight, p.inFlight)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inFlight--
		p.mu.Unlock()
	}()
	if p.gate != nil {
		select {
		case <-p.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if _, err := os.ReadFile(path); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail[name] > 0 {
		p.fail[name]--
		return fmt.Errorf("injected failure of %s", name)
	}
	p.stored[name] = true
	return nil
}

func (p *fakePusher) snapshot() (attempts map[string]int, stored int, inFlight, maxInFlight int, started []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	attempts = map[string]int{}
	for k, v := range p.attempts {
		attempts[k] = v
	}
	return attempts, len(p.stored), p.inFlight, p.maxInFlight, append([]string(nil), p.started...)
}

// fakeFetcher serves an archive held in memory and records requests.
type fakeFetcher struct {
	mu      sync.Mutex
	archive map[string][]byte
	asked   []string
	gate    chan struct{} // when set, Fetch waits for it
	// midway, when set, receives the name of each prefetch download
	// whose temporary file is written; it then waits for resume.
	midway, resume chan string
}

func newFakeFetcher(names ...string) *fakeFetcher {
	f := &fakeFetcher{archive: map[string][]byte{}}
	for _, n := range names {
		f.archive[n] = []byte("content of " + n)
	}
	return f
}

func (f *fakeFetcher) Fetch(ctx context.Context, name, dest string) error {
	f.mu.Lock()
	f.asked = append(f.asked, name)
	b, ok := f.archive[name]
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if !ok {
		return fmt.Errorf("fetch %s: %w", name, ErrNotArchived)
	}
	// Like wal.Archiver: a temporary dot-file beside dest, then a rename.
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".fake-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if f.midway != nil && strings.HasSuffix(dest, ".tmp") {
		f.midway <- name
		<-f.resume
	}
	return os.Rename(tmp.Name(), dest)
}

func (f *fakeFetcher) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, a := range f.asked {
		if a == name {
			n++
		}
	}
	return n
}

func (f *fakeFetcher) askedCopy() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.asked...)
}

// dataDir makes a data directory with pg_wal/archive_status under a short
// temp path (a t.TempDir path can overflow the 107-byte socket limit).
func dataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "walsvc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.MkdirAll(filepath.Join(dir, "pg_wal", "archive_status"), 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// ready writes pg_wal/name and marks it ready, as postgres does.
func ready(t *testing.T, data string, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(data, "pg_wal", n), []byte("wal "+n), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, "pg_wal", "archive_status", n+".ready"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// archived renames name's .ready to .done, as postgres does on success.
func archived(t *testing.T, data, name string) {
	t.Helper()
	st := filepath.Join(data, "pg_wal", "archive_status")
	if err := os.Rename(filepath.Join(st, name+".ready"), filepath.Join(st, name+".done")); err != nil {
		t.Fatal(err)
	}
}

// seg names segment no of timeline 1 with 16 MiB segments.
func seg(no int) string { return fmt.Sprintf("00000001%08X%08X", no/256, no%256) }

// serve starts a server for data and stops it when t ends.
func serve(t *testing.T, cfg Config, p Pusher, f Fetcher) *Server {
	t.Helper()
	s, err := New(cfg, p, f, hclog.New(&hclog.LoggerOptions{Name: "walsvc", Level: hclog.Debug, Output: testWriter{t}}))
	if err != nil {
		t.Fatal(err)
	}
	l, err := Listen(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return s
}

func testConfig(data string) Config {
	c := Default()
	c.DataDir = data
	return c
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(b))
	return len(b), nil
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, what, cond)
}

// rawCall sends line on a fresh connection and returns the decoded reply.
func rawCall(t *testing.T, socket, line string) reply {
	t.Helper()
	c, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(line)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	var rep reply
	if err := readMessage(r, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Code == CodeAccepted { // the final reply follows
		rep = reply{}
		if err := readMessage(r, &rep); err != nil {
			t.Fatal(err)
		}
	}
	return rep
}
