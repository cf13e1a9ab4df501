// Package backuptest sets up the real parts the backup, restore and CLI
// tests share: an S3 bucket on testenv's versitygw as the archive store,
// and restored PostgreSQL instances.
package backuptest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/restore"
	"github.com/tenure-pg/tenure/walarchive/storage/s3store"
)

// Archive is an archive in a fresh bucket.
type Archive struct {
	S3      *testenv.S3
	Config  s3store.Config
	Store   *s3store.Store
	Archive layout.Archive
	// ConfigPath is the tenure-archive.json ArchivingPrimary saved.
	ConfigPath string
}

// NewArchive makes a fresh bucket on srv.
func NewArchive(t testing.TB, srv *testenv.S3) *Archive {
	t.Helper()
	cfg := s3store.Config{
		Endpoint: srv.Endpoint(), Region: srv.Region(), Bucket: srv.NewBucket(t), PathStyle: true,
		Credentials: s3store.CredentialsStatic, AccessKeyID: srv.AccessKey(), SecretAccessKey: srv.SecretKey(),
	}.Default()
	st, err := s3store.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &Archive{S3: srv, Config: cfg, Store: st,
		Archive: layout.Archive{Cluster: "alpha", UID: "3f6c1c2e-uid", Major: 15}}
}

// Owner is who restored files must belong to for the test's postgres.
func Owner(t testing.TB) *restore.Owner {
	if cred := testenv.ServerCredential(t); cred != nil {
		return &restore.Owner{UID: int(cred.Uid), GID: int(cred.Gid)}
	}
	return nil
}

// EmptyInstance is a stopped instance whose DataDir does not exist yet,
// on its own loopback address and a port free a moment ago. (A fixed
// 5432 collided with another test binary that had handed out the same
// loopback address: addresses are unique per process only.)
func EmptyInstance(t testing.TB) *testenv.Postgres {
	addr := testenv.NewLoopbackAddr()
	return testenv.StartPostgres(t, testenv.PostgresOptions{Empty: true, Addr: addr, Port: testenv.FreePort(t, addr)})
}

// StartRestored appends extra settings (archive_mode = off by default, so
// the restored copy never archives into the source's archive) and starts
// p, then waits until recovery has ended (promote) or paused.
func StartRestored(ctx context.Context, t testing.TB, p *testenv.Postgres, extra ...string) {
	t.Helper()
	conf := "\narchive_mode = off\n" + strings.Join(extra, "\n") + "\n"
	f, err := os.OpenFile(filepath.Join(p.DataDir, "postgresql.auto.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(conf); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	WaitRecovered(ctx, t, p)
}

// WaitRecovered polls until p is out of recovery or paused at its target.
func WaitRecovered(ctx context.Context, t testing.TB, p *testenv.Postgres) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		state, err := recoveryState(ctx, p)
		if err == nil && (state == "done" || state == "paused") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("restored instance did not finish recovery: state %q, %v", state, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func recoveryState(ctx context.Context, p *testenv.Postgres) (string, error) {
	conn, err := pgx.Connect(ctx, p.DSN("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var s string
	err = conn.QueryRow(ctx, `SELECT CASE WHEN NOT pg_is_in_recovery() THEN 'done'
		WHEN pg_get_wal_replay_pause_state() = 'paused' THEN 'paused' ELSE 'recovering' END`).Scan(&s)
	return s, err
}

// Query runs a one-value query.
func Query[T any](ctx context.Context, t testing.TB, dsn, sql string, args ...any) T {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v T
	if err := conn.QueryRow(ctx, sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// Exec runs statements.
func Exec(ctx context.Context, t testing.TB, dsn string, sqls ...string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range sqls {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// Writer inserts rows into table t(id serial, v text) until stopped, and
// returns how many it committed.
type Writer struct {
	stop      chan struct{}
	done      chan int
	err       error
	committed atomic.Int64
	exited    chan struct{} // closed when the writing goroutine ends
}

// StartWriter creates table name and starts inserting one row per commit.
func StartWriter(ctx context.Context, t testing.TB, dsn, name string) *Writer {
	t.Helper()
	Exec(ctx, t, dsn, fmt.Sprintf("CREATE TABLE %s (id bigserial PRIMARY KEY, v text NOT NULL)", name))
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	w := &Writer{stop: make(chan struct{}), done: make(chan int, 1), exited: make(chan struct{})}
	go func() {
		defer close(w.exited)
		defer conn.Close(context.Background())
		n := 0
		for {
			select {
			case <-w.stop:
				w.done <- n
				return
			default:
			}
			if _, err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s (v) VALUES (repeat('x', 200))", name)); err != nil {
				w.err = err
				w.done <- n
				return
			}
			n++
			w.committed.Store(int64(n))
		}
	}()
	return w
}

// Advance waits until the writer has committed n more rows than when it
// was called, so a test knows writes happened in a phase (before a
// backup, during it) without guessing a duration.
func (w *Writer) Advance(t testing.TB, n int) {
	t.Helper()
	want := w.committed.Load() + int64(n)
	deadline := time.Now().Add(30 * time.Second)
	for w.committed.Load() < want {
		select {
		case <-w.exited:
			t.Fatalf("writer stopped after %d rows: %v", w.committed.Load(), w.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("writer committed %d rows in 30s, want %d", w.committed.Load(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Stop ends the writes and returns the number committed.
func (w *Writer) Stop(t testing.TB) int {
	close(w.stop)
	n := <-w.done
	if w.err != nil {
		t.Fatalf("writer: %v", w.err)
	}
	return n
}
