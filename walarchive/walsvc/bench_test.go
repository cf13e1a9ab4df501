package walsvc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/walarchive/walname"
)

// timed records how long each upload took.
type timed struct {
	archiver
	rtt  time.Duration // added to each upload, to stand in for a remote S3
	mu   sync.Mutex
	took []time.Duration
}

func (a *timed) Push(ctx context.Context, path string) error {
	began := time.Now()
	time.Sleep(a.rtt)
	err := a.archiver.Push(ctx, path)
	a.mu.Lock()
	a.took = append(a.took, time.Since(began))
	a.mu.Unlock()
	return err
}

// Fetch adds the same stand-in round trip to each download.
func (a *timed) Fetch(ctx context.Context, name, dest string) error {
	time.Sleep(a.rtt)
	return a.archiver.Fetch(ctx, name, dest)
}

func (a *timed) p99() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.took) == 0 {
		return 0
	}
	s := slices.Clone(a.took)
	slices.Sort(s)
	return s[(len(s)*99+99)/100-1]
}

// BenchmarkWALPush measures archive_command throughput with the service:
// pgbench -i makes a backlog of real WAL while archiving is paused, then
// archive_command (a fork of the client per file, as in production) is
// pointed at the socket and the drain is timed against the test S3
// server. It runs once whatever b.N is; TENURE_BENCH_SCALE sets the
// pgbench scale (default 40, about 31 segments) and
// TENURE_BENCH_CONCURRENCY the list of concurrencies (default "1,4").
// Then it restores the last archive segment by segment through the
// socket with tenure-agent wal-fetch, as restore_command would, without
// and with prefetch. TENURE_BENCH_STANDALONE=1 first measures wal-push
// with no service, the baseline.
func BenchmarkWALPush(b *testing.B) {
	srv := testenv.StartS3(b)
	pg, conn := archivingPostgres(b)
	agent := testenv.AgentBinary(b)
	scale := envInt(b, "TENURE_BENCH_SCALE", 40)
	rtt := time.Duration(envInt(b, "TENURE_BENCH_RTT_MS", 0)) * time.Millisecond
	var last archiver
	var lastSegs []string
	if os.Getenv("TENURE_BENCH_STANDALONE") != "" {
		benchStandalone(b, srv, pg, conn, agent, scale)
	}
	for _, c := range envInts(b, "TENURE_BENCH_CONCURRENCY", []int{1, DefaultConcurrency}) {
		setArchiveCommand(b, conn, "")
		segs := makeBacklog(b, pg, conn, scale)
		a := &timed{archiver: newArchiver(b, srv, srv.NewBucket(b)), rtt: rtt}
		cfg := Default()
		cfg.DataDir, cfg.Concurrency = pg.DataDir, c
		s, stop := startServer(b, cfg, a)
		began := time.Now()
		setArchiveCommand(b, conn, agent+" wal-push %p")
		waitDrained(b, pg.DataDir, 10*time.Minute)
		took := time.Since(began)
		stop()
		if n := testutil.ToFloat64(s.m.requests.WithLabelValues(opPush, CodeOK)); n < float64(len(segs)) {
			b.Fatalf("%v pushes went through the service, want >= %d", n, len(segs))
		}
		mb := float64(len(segs)) * float64(walname.DefaultSize) / (1 << 20)
		fmt.Printf("RESULT wal-push segments=%d mb_per_s=%.1f p99_segment_ms=%d concurrency=%d%s\n",
			len(segs), mb/took.Seconds(), a.p99().Milliseconds(), c, rttNote(rtt))
		last, lastSegs = a, segs
	}
	benchSteady(b, srv, pg, conn, agent, envInt(b, "TENURE_BENCH_STEADY_S", 30), rtt)
	for _, prefetch := range []int{0, DefaultPrefetch} {
		benchFetch(b, agent, last, lastSegs, prefetch)
	}
}

// benchSteady archives while pgbench writes at full speed for seconds,
// at the default concurrency: the target case, an archive that
// keeps up with the writer, segment by segment. It reports the WAL rate
// pgbench reached, the per-segment push latency (p99 and max) and the
// largest .ready backlog seen (0 or 1 means archiving kept up).
func benchSteady(b *testing.B, srv *testenv.S3, pg *testenv.Postgres, conn *pgx.Conn, agent string, seconds int, rtt time.Duration) {
	b.Helper()
	if seconds <= 0 {
		return
	}
	ctx := context.Background()
	setArchiveCommand(b, conn, "")
	waitDrained(b, pg.DataDir, time.Minute) // nothing left from the drains
	a := &timed{archiver: newArchiver(b, srv, srv.NewBucket(b)), rtt: rtt}
	cfg := Default()
	cfg.DataDir = pg.DataDir
	_, stop := startServer(b, cfg, a)
	defer stop()
	setArchiveCommand(b, conn, agent+" wal-push %p")
	var start string
	if err := conn.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&start); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	maxReady := 0
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
			maxReady = max(maxReady, len(readyFiles(b, pg.DataDir)))
		}
	}()
	// TPC-B's small transactions write about 1.5 MB/s of WAL here; bulk
	// inserts (about 100 kB of WAL each) make pgbench write WAL as fast
	// as this machine can, the hard case for archiving.
	if _, err := conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS steady (v text)"); err != nil {
		b.Fatal(err)
	}
	script := filepath.Join(testenv.OwnedDir(b), "steady.sql")
	if err := os.WriteFile(script, []byte("INSERT INTO steady SELECT repeat(md5(random()::text), 32) FROM generate_series(1, 100);\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	began := time.Now()
	out, err := pg.Command(ctx, "pgbench", "-n", "-c", "2", "-j", "2", "-T", strconv.Itoa(seconds), "-f", script,
		"-h", pg.Addr, "-p", strconv.Itoa(pg.Port), "-U", "postgres", "postgres").CombinedOutput()
	took := time.Since(began)
	close(done)
	if err != nil {
		b.Fatalf("pgbench: %v: %s", err, out)
	}
	var walBytes float64
	if err := conn.QueryRow(ctx, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)", start).Scan(&walBytes); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_switch_wal()"); err != nil {
		b.Fatal(err)
	}
	waitDrained(b, pg.DataDir, 5*time.Minute)
	a.mu.Lock()
	n, worst := len(a.took), slices.Max(append([]time.Duration{0}, a.took...))
	a.mu.Unlock()
	fmt.Printf("RESULT wal-push-steady seconds=%d wal_mb_per_s=%.1f segments=%d p99_segment_ms=%d max_segment_ms=%d max_ready=%d concurrency=%d%s\n",
		seconds, walBytes/(1<<20)/took.Seconds(), n, a.p99().Milliseconds(), worst.Milliseconds(), maxReady, cfg.Concurrency, rttNote(rtt))
}

func rttNote(rtt time.Duration) string {
	if rtt == 0 {
		return ""
	}
	return fmt.Sprintf(" added_rtt_ms=%d", rtt.Milliseconds())
}

// benchStandalone drains a backlog with no service: tenure-agent
// wal-push works alone, one process and one serial upload per file, the
// baseline the service is measured against.
func benchStandalone(b *testing.B, srv *testenv.S3, pg *testenv.Postgres, conn *pgx.Conn, agent string, scale int) {
	b.Helper()
	setArchiveCommand(b, conn, "")
	segs := makeBacklog(b, pg, conn, scale)
	bucket := srv.NewBucket(b)
	cfgPath := filepath.Join(pg.DataDir, "tenure-archive.json")
	if err := archiveConfig(srv, bucket).Save(cfgPath); err != nil {
		b.Fatal(err)
	}
	defer os.Remove(cfgPath)
	if os.Geteuid() == 0 {
		chownToPostgres(b, cfgPath)
	}
	began := time.Now()
	setArchiveCommand(b, conn, fmt.Sprintf("AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s %s wal-push %%p",
		srv.AccessKey(), srv.SecretKey(), agent))
	waitDrained(b, pg.DataDir, 10*time.Minute)
	took := time.Since(began)
	mb := float64(len(segs)) * float64(walname.DefaultSize) / (1 << 20)
	fmt.Printf("RESULT wal-push segments=%d mb_per_s=%.1f mode=standalone\n", len(segs), mb/took.Seconds())
}

// makeBacklog runs pgbench -i and switches WAL, returning the complete
// segments now ready.
func makeBacklog(b *testing.B, pg *testenv.Postgres, conn *pgx.Conn, scale int) []string {
	b.Helper()
	ctx := context.Background()
	before := readyFiles(b, pg.DataDir)
	out, err := pg.Command(ctx, "pgbench", "-i", "-q", "-s", strconv.Itoa(scale),
		"-h", pg.Addr, "-p", strconv.Itoa(pg.Port), "-U", "postgres", "postgres").CombinedOutput()
	if err != nil {
		b.Fatalf("pgbench -i: %v: %s", err, out)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_switch_wal()"); err != nil {
		b.Fatal(err)
	}
	var segs []string
	for _, n := range readyFiles(b, pg.DataDir) {
		if _, err := walname.ParseSegment(n, 0); err == nil && !slices.Contains(before, n) {
			segs = append(segs, n)
		}
	}
	return segs
}

// benchFetch restores segs one after another through a client process
// per segment, as recovery's restore_command does.
func benchFetch(b *testing.B, agent string, a archiver, segs []string, prefetch int) {
	b.Helper()
	data, err := os.MkdirTemp("", "walsvc-fetch-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(data)
	if err := os.MkdirAll(filepath.Join(data, "pg_wal"), 0o700); err != nil {
		b.Fatal(err)
	}
	cfg := Default()
	cfg.DataDir, cfg.Prefetch = data, prefetch
	s, stop := startServer(b, cfg, a)
	defer stop()
	began := time.Now()
	for _, n := range segs {
		cmd := exec.Command(agent, "wal-fetch", n, "pg_wal/RECOVERYXLOG")
		cmd.Dir = data
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("fetch %s: %v: %s", n, err, out)
		}
		fi, err := os.Stat(filepath.Join(data, "pg_wal", "RECOVERYXLOG"))
		if err != nil || fi.Size() != int64(walname.DefaultSize) {
			b.Fatalf("restored %s: %v, size %v", n, err, fi)
		}
	}
	took := time.Since(began)
	mb := float64(len(segs)) * float64(walname.DefaultSize) / (1 << 20)
	rtt := time.Duration(0)
	if t, ok := a.(*timed); ok {
		rtt = t.rtt
	}
	fmt.Printf("RESULT wal-fetch segments=%d mb_per_s=%.1f prefetch=%d%s\n", len(segs), mb/took.Seconds(), prefetch, rttNote(rtt))
	b.Logf("prefetch %d: hits %v, misses %v, downloads ok %v, absent %v, failed %v", prefetch,
		testutil.ToFloat64(s.m.prefetchHits), testutil.ToFloat64(s.m.prefetchMisses),
		testutil.ToFloat64(s.m.prefetches.WithLabelValues("ok")), testutil.ToFloat64(s.m.prefetches.WithLabelValues("absent")),
		testutil.ToFloat64(s.m.prefetches.WithLabelValues("error")))
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		b.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}

func envInts(b *testing.B, name string, def []int) []int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			b.Fatalf("%s=%q: %v", name, v, err)
		}
		out = append(out, n)
	}
	return out
}
