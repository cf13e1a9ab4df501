package walsvc

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/walarchive/walname"
)

// probe counts the uploads running at once.
type probe struct {
	archiver
	mu       sync.Mutex
	now, max int
}

func (p *probe) Push(ctx context.Context, path string) error {
	p.mu.Lock()
	p.now++
	p.max = max(p.max, p.now)
	p.mu.Unlock()
	defer func() { p.mu.Lock(); p.now--; p.mu.Unlock() }()
	return p.archiver.Push(ctx, path)
}

// A backlog of ready segments made by real PostgreSQL 15 drains through
// archive_command and the socket into a real S3 server, in parallel,
// leaving no gap in the archive.
func TestArchiveBacklogThroughSocket(t *testing.T) {
	if testing.Short() {
		t.Skip("real PostgreSQL and S3")
	}
	srv := testenv.StartS3(t)
	a := &probe{archiver: newArchiver(t, srv, srv.Bucket())}
	pg, conn := archivingPostgres(t)
	ctx := context.Background()
	t.Logf("postgres up")
	if _, err := conn.Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
		t.Fatal(err)
	}
	const switches = 12
	for range switches {
		if _, err := conn.Exec(ctx, "INSERT INTO t VALUES (1)"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "SELECT pg_switch_wal()"); err != nil {
			t.Fatal(err)
		}
	}
	backlog := readyFiles(t, pg.DataDir)
	if len(backlog) < switches {
		t.Fatalf("%d files ready after %d WAL switches: %v", len(backlog), switches, backlog)
	}
	cfg := Default()
	cfg.DataDir = pg.DataDir
	s := serveFor(t, cfg, a)
	began := time.Now()
	setArchiveCommand(t, conn, clientCommand(t, pg))
	waitDrained(t, pg.DataDir, time.Minute)
	t.Logf("%d files drained in %v", len(backlog), time.Since(began).Round(time.Millisecond))

	stored := a.archiver.(*realArchive).archivedNames(t)
	for _, n := range backlog {
		if !slices.Contains(stored, n) {
			t.Errorf("%s was ready and is not archived", n)
		}
	}
	assertNoGap(t, stored)
	for _, n := range backlog {
		local, err := os.ReadFile(filepath.Join(pg.DataDir, "pg_wal", n))
		if err != nil {
			continue // recycled after archiving
		}
		dest := filepath.Join(t.TempDir(), n)
		if err := a.Fetch(ctx, n, dest); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(dest); string(got) != string(local) {
			t.Errorf("%s archived with other bytes", n)
		}
	}
	if a.max < 2 {
		t.Errorf("at most %d upload at once, want the backlog uploaded in parallel", a.max)
	}
	if n := testutil.ToFloat64(s.m.requests.WithLabelValues(opPush, CodeOK)); n < float64(len(backlog)) {
		t.Errorf("%v push requests answered ok, want >= %d (all through the socket)", n, len(backlog))
	}
	t.Logf("drained %d ready files; %d uploads at most at once", len(backlog), a.max)
}

// assertNoGap checks that the archived segments of each timeline are
// consecutive.
func assertNoGap(t *testing.T, names []string) {
	t.Helper()
	var prev *walname.Segment
	slices.Sort(names)
	for _, n := range names {
		s, err := walname.ParseSegment(n, 0)
		if err != nil {
			continue // history, backup history
		}
		if prev != nil && prev.Timeline == s.Timeline && s.No != prev.No+1 {
			t.Errorf("gap in the archive between %s and %s", prev.Name(0), n)
		}
		prev = &s
	}
}
