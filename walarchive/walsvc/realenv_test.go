package walsvc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/storage"
	"github.com/tenure-pg/tenure/walarchive/storage/s3store"
	"github.com/tenure-pg/tenure/walarchive/wal"
)

// clientEnv, when set, makes the test binary act as the archive_command
// client (see TestMain): postgres runs a copy of it once per file.
const clientEnv = "WALSVC_TEST_CLIENT"

func TestMain(m *testing.M) {
	if op := os.Getenv(clientEnv); op != "" {
		os.Exit(runClient(op, os.Args[1:]))
	}
	testenv.Main(m)
}

// runClient is what `tenure-agent wal-push %p` does with a running agent,
// without the standalone fallback: exit 3 on ErrNoServer, so a test whose
// requests did not go through the socket never drains.
func runClient(op string, args []string) int {
	ctx := context.Background()
	var err error
	switch {
	case op == "push" && len(args) == 1:
		err = Push(ctx, SocketName, args[0])
	case op == "fetch" && len(args) == 2:
		err = Fetch(ctx, SocketName, args[0], args[1])
	default:
		err = fmt.Errorf("usage: %s=push|fetch args", clientEnv)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "walsvc client:", err)
		if errors.Is(err, ErrNoServer) {
			return 3
		}
		return 1
	}
	return 0
}

// realArchive is the wal.Archiver over a real S3 bucket, with the store
// and layout kept for checks.
type realArchive struct {
	*wal.Archiver
	store storage.Store
	cfg   wal.Config
}

// archiveConfig is the wal config for bucket of srv. Its Concurrency is
// high so that the service's own Concurrency is what a test measures.
func archiveConfig(srv *testenv.S3, bucket string) wal.Config {
	return wal.Config{
		Store: wal.StoreS3,
		S3: &wal.S3Config{Endpoint: srv.Endpoint(), Region: srv.Region(), Bucket: bucket, PathStyle: true,
			Credentials: s3store.CredentialsEnv},
		Archive:     layout.Archive{Prefix: "tenure", Cluster: "walsvc", UID: "5e1f0c2a", Major: 15},
		Concurrency: 32,
	}.Default()
}

// newArchiver makes the archiver for bucket of srv.
func newArchiver(tb testing.TB, srv *testenv.S3, bucket string) *realArchive {
	tb.Helper()
	cfg := archiveConfig(srv, bucket)
	st, err := s3store.New(s3store.Config{
		Endpoint: srv.Endpoint(), Region: srv.Region(), Bucket: bucket, PathStyle: true,
		Credentials: s3store.CredentialsStatic, AccessKeyID: srv.AccessKey(), SecretAccessKey: srv.SecretKey(),
	}.Default())
	if err != nil {
		tb.Fatal(err)
	}
	a, err := wal.New(cfg, st, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &realArchive{Archiver: a, store: st, cfg: cfg}
}

// archivedNames lists the WAL files in the archive.
func (a *realArchive) archivedNames(tb testing.TB) []string {
	tb.Helper()
	var names []string
	for info, err := range a.store.List(context.Background(), a.cfg.Archive.WALPrefix()) {
		if err != nil {
			tb.Fatal(err)
		}
		if n, ok := a.cfg.Archive.WALName(info.Key); ok {
			names = append(names, n)
		}
	}
	return names
}

// archiver is the Pusher and Fetcher the real-parts tests use.
type archiver interface {
	Pusher
	Fetcher
}

// archivingPostgres starts PostgreSQL 15 with archiving on and an empty
// archive_command, so WAL accumulates as .ready files (a backlog) until
// setArchiveCommand points it at the service.
func archivingPostgres(tb testing.TB) (*testenv.Postgres, *pgx.Conn) {
	tb.Helper()
	pg := testenv.StartPostgres(tb, testenv.PostgresOptions{ExtraConf: []string{
		"archive_mode = on", "archive_command = ''", "max_wal_size = '4GB'", "checkpoint_timeout = '1h'",
		"wal_level = replica", "synchronous_commit = off",
	}})
	conn, err := pgx.Connect(context.Background(), pg.DSN("postgres"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	return pg, conn
}

// clientCommand copies the test binary where the postgres user can run
// it and returns an archive_command running it as the client.
func clientCommand(tb testing.TB, pg *testenv.Postgres) string {
	tb.Helper()
	self, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		tb.Fatal(err)
	}
	bin := filepath.Join(pg.Dir, "walsvc-client")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("%s=push %s %%p", clientEnv, bin)
}

func setArchiveCommand(tb testing.TB, conn *pgx.Conn, cmd string) {
	tb.Helper()
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "ALTER SYSTEM SET archive_command = "+quote(cmd)); err != nil {
		tb.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		tb.Fatal(err)
	}
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// serveFor runs a server for pg's data directory until tb ends.
func serveFor(tb testing.TB, cfg Config, a archiver) *Server {
	tb.Helper()
	s, stop := startServer(tb, cfg, a)
	tb.Cleanup(stop)
	return s
}

// startServer runs a server until stop is called. When the test runs as
// root (postgres runs as the postgres user), the socket is handed to that
// user, as the agent (running as postgres) would own it.
func startServer(tb testing.TB, cfg Config, a archiver) (*Server, func()) {
	tb.Helper()
	s, err := New(cfg, a, a, hclog.New(&hclog.LoggerOptions{Name: "walsvc", Level: hclog.Warn}))
	if err != nil {
		tb.Fatal(err)
	}
	l, err := Listen(cfg.DataDir)
	if err != nil {
		tb.Fatal(err)
	}
	if os.Geteuid() == 0 {
		chownToPostgres(tb, SocketPath(cfg.DataDir))
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.Serve(ctx, l); err != nil {
			tb.Errorf("serve: %v", err)
		}
	})
	return s, func() { cancel(); wg.Wait() }
}

func chownToPostgres(tb testing.TB, path string) {
	tb.Helper()
	u, err := user.Lookup("postgres")
	if err != nil {
		tb.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		tb.Fatal(err)
	}
}

// readyFiles lists archive_status/*.ready, sorted.
func readyFiles(tb testing.TB, data string) []string {
	tb.Helper()
	entries, err := os.ReadDir(filepath.Join(data, "pg_wal", "archive_status"))
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".ready"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// waitDrained polls until no file is ready, failing after limit.
func waitDrained(tb testing.TB, data string, limit time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for len(readyFiles(tb, data)) > 0 {
		if time.Now().After(deadline) {
			tb.Fatalf("backlog not drained after %v: %d still ready", limit, len(readyFiles(tb, data)))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
