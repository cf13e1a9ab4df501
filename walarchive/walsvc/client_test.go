package walsvc

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// With no server the client says so, whether the socket file is missing
// or left behind by a dead server; the caller then works standalone.
func TestClientNoServer(t *testing.T) {
	data := dataDir(t)
	ready(t, data, seg(1))
	path := filepath.Join(data, "pg_wal", seg(1))
	if err := Push(context.Background(), SocketPath(data), path); !errors.Is(err, ErrNoServer) {
		t.Errorf("push with no socket = %v, want ErrNoServer", err)
	}
	l, err := net.Listen("unix", SocketPath(data))
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close() // a stale socket file: connect is refused
	if err := Push(context.Background(), SocketPath(data), path); !errors.Is(err, ErrNoServer) {
		t.Errorf("push to a stale socket = %v, want ErrNoServer", err)
	}
	err = Fetch(context.Background(), SocketPath(data), seg(1), filepath.Join(data, "pg_wal", "RECOVERYXLOG"))
	if !errors.Is(err, ErrNoServer) {
		t.Errorf("fetch to a stale socket = %v, want ErrNoServer", err)
	}
	// Listen takes the stale path over, with mode 0600.
	l, err = Listen(data)
	if err != nil {
		t.Fatalf("listen over a stale socket: %v", err)
	}
	defer l.Close()
	fi, err := os.Stat(SocketPath(data))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := Listen(data); !errors.Is(err, ErrInUse) {
		t.Errorf("second listen = %v, want ErrInUse", err)
	}
}

// Listen refuses to delete a file that is not a socket.
func TestListenKeepsOtherFiles(t *testing.T) {
	data := dataDir(t)
	if err := os.WriteFile(SocketPath(data), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(data); err == nil {
		t.Fatal("listen replaced a regular file")
	}
	if _, err := os.Stat(SocketPath(data)); err != nil {
		t.Errorf("the regular file is gone: %v", err)
	}
}

// Malformed, mistyped and misdirected requests get a clear error and do
// nothing.
func TestBadRequests(t *testing.T) {
	data := dataDir(t)
	ready(t, data, seg(1))
	p := newFakePusher(false)
	serve(t, testConfig(data), p, newFakeFetcher())
	sock := SocketPath(data)
	segPath := filepath.Join(data, "pg_wal", seg(1))
	for _, tc := range []struct {
		name, line, code string
	}{
		{"not json", "hello\n", CodeBadRequest},
		{"unknown field", `{"v":2,"op":"push","path":"` + segPath + `","force":true}` + "\n", CodeBadRequest},
		{"unknown op", `{"v":2,"op":"delete","path":"` + segPath + `"}` + "\n", CodeBadRequest},
		{"other version", `{"v":1,"op":"push","path":"` + segPath + `"}` + "\n", CodeVersion},
		{"relative path", `{"v":2,"op":"push","path":"pg_wal/` + seg(1) + `"}` + "\n", CodeBadRequest},
		{"push with dest", `{"v":2,"op":"push","path":"` + segPath + `","dest":"/tmp/x"}` + "\n", CodeBadRequest},
		{"outside pg_wal", `{"v":2,"op":"push","path":"/etc/` + seg(1) + `"}` + "\n", CodeNotServed},
		{"not a wal name", `{"v":2,"op":"push","path":"` + filepath.Join(data, "pg_wal", "postgresql.conf") + `"}` + "\n", CodeBadRequest},
		{"fetch bad name", `{"v":2,"op":"fetch","name":"x","dest":"` + segPath + `"}` + "\n", CodeBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := rawCall(t, sock, tc.line)
			if rep.Code != tc.code || rep.Error == "" || rep.Version != ProtocolVersion {
				t.Errorf("reply %+v, want code %q with a message", rep, tc.code)
			}
		})
	}
	if a, _, _, _, _ := p.snapshot(); len(a) != 0 {
		t.Errorf("bad requests uploaded %v", a)
	}
	// Through the client: a version or directory mismatch means "fall back".
	if err := Push(context.Background(), sock, "/etc/"+seg(1)); !errors.Is(err, ErrNoServer) {
		t.Errorf("push outside pg_wal = %v, want ErrNoServer", err)
	}
	if err := Push(context.Background(), sock, filepath.Join(data, "pg_wal", "notwal")); !errors.Is(err, ErrBadRequest) {
		t.Errorf("push of a non-WAL name = %v, want ErrBadRequest", err)
	}
}

// A request still waiting when the server stops is told to fall back.
func TestShutdownReleasesWaiters(t *testing.T) {
	data := dataDir(t)
	ready(t, data, seg(1))
	p := newFakePusher(true) // never released
	s, err := New(testConfig(data), p, newFakeFetcher(), nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Listen(data)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, l) }()
	pushed := make(chan error, 1)
	go func() { pushed <- Push(context.Background(), SocketPath(data), filepath.Join(data, "pg_wal", seg(1))) }()
	eventually(t, "upload started", func() bool { _, _, n, _, _ := p.snapshot(); return n == 1 })
	cancel()
	if err := <-pushed; !errors.Is(err, ErrNoServer) {
		t.Errorf("push during shutdown = %v, want ErrNoServer", err)
	}
	if err := <-served; err != nil {
		t.Errorf("serve = %v", err)
	}
	if _, err := os.Stat(SocketPath(data)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left after shutdown: %v", err)
	}
}

// Run waits for pg_wal, and listens again when the data directory is
// replaced under it.
func TestRunFollowsDataDirectory(t *testing.T) {
	old := watchEvery
	watchEvery = 10 * time.Millisecond
	t.Cleanup(func() { watchEvery = old })
	data := dataDir(t)
	if err := os.RemoveAll(filepath.Join(data, "pg_wal")); err != nil {
		t.Fatal(err)
	}
	s, err := New(testConfig(data), newFakePusher(false), newFakeFetcher(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	push := func() error {
		return Push(context.Background(), SocketPath(data), filepath.Join(data, "pg_wal", seg(1)))
	}
	for round := range 2 { // initdb, then a re-clone
		if err := os.MkdirAll(filepath.Join(data, "pg_wal", "archive_status"), 0o700); err != nil {
			t.Fatal(err)
		}
		ready(t, data, seg(1))
		eventually(t, "the service answers", func() bool { return push() == nil })
		if round == 0 {
			if err := os.RemoveAll(filepath.Join(data, "pg_wal")); err != nil {
				t.Fatal(err)
			}
			if err := push(); !errors.Is(err, ErrNoServer) {
				t.Errorf("push with pg_wal gone = %v, want ErrNoServer", err)
			}
		}
	}
	cancel()
	if err := <-ran; err != nil {
		t.Errorf("run = %v", err)
	}
}

// A server that accepts the connection but never acknowledges (a hung
// agent: the kernel accepts for it) counts as no server, soon, so
// archive_command falls back to working standalone.
func TestClientHungServerFallsBack(t *testing.T) {
	old := ackTimeout
	ackTimeout = 100 * time.Millisecond
	t.Cleanup(func() { ackTimeout = old })
	data := dataDir(t)
	ready(t, data, seg(1))
	l, err := Listen(data)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	held := make(chan net.Conn, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			held <- c // read nothing, answer nothing
		}
	}()
	began := time.Now()
	err = Push(context.Background(), SocketPath(data), filepath.Join(data, "pg_wal", seg(1)))
	if !errors.Is(err, ErrNoServer) {
		t.Fatalf("push to a hung server = %v, want ErrNoServer", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Fatalf("fell back after %v", took)
	}
	(<-held).Close()
}
