package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenure-pg/tenure/internal/backuptest"
	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/podagent/pgctl"
	"github.com/tenure-pg/tenure/walarchive/restore"
	"github.com/tenure-pg/tenure/walarchive/wal"
)

// fetchRetryForTests is the archive config's fetchRetry in these tests:
// how long wal-fetch rides out an outage before it aborts recovery.
const fetchRetryForTests = 4 * time.Second

// archivedCluster is a primary with a base backup and several segments
// of committed rows archived after it, on a real S3 server.
type archivedCluster struct {
	a        *backuptest.Archive
	pg       *testenv.Postgres // the primary, still archiving
	cfgFlag  string
	fetch    string   // restore_command with fetchRetryForTests
	segments []string // archived after the backup, oldest first
	rows     int
}

func newArchivedCluster(t *testing.T) *archivedCluster {
	t.Helper()
	ctx := context.Background()
	a := backuptest.NewArchive(t, testenv.StartS3(t))
	pg, _ := a.ArchivingPrimary(t)
	t.Setenv("AWS_ACCESS_KEY_ID", a.S3.AccessKey())
	t.Setenv("AWS_SECRET_ACCESS_KEY", a.S3.SecretKey())
	c := &archivedCluster{a: a, pg: pg, cfgFlag: "--archive-config=" + a.ConfigPath}
	dsn := pg.DSN("postgres")
	backuptest.Exec(ctx, t, dsn, "CREATE TABLE t (id bigserial PRIMARY KEY, v text NOT NULL)")
	if code, out, errOut := runTenure(t, "backup", "create", c.cfgFlag, "--dsn", dsn); code != 0 {
		t.Fatalf("backup create: %d\n%s\n%s", code, out, errOut)
	}
	for range 6 {
		backuptest.Exec(ctx, t, dsn, "INSERT INTO t (v) SELECT repeat('x', 200) FROM generate_series(1, 500)")
		c.segments = append(c.segments, backuptest.SwitchAndWait(ctx, t, pg))
	}
	c.rows = backuptest.Query[int](ctx, t, dsn, "SELECT count(*)::int FROM t")
	cfg, _ := a.WALConfig(t)
	cfg.FetchRetry = wal.Duration(fetchRetryForTests)
	path := filepath.Join(testenv.OwnedDir(t), "source.json")
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}
	c.fetch = fmt.Sprintf("AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s %s wal-fetch --config %s %%f %%p",
		a.S3.AccessKey(), a.S3.SecretKey(), testenv.AgentBinary(t), path)
	return c
}

// object is the file versitygw's posix backend keeps WAL file name in.
func (c *archivedCluster) object(name string) string {
	return filepath.Join(c.a.S3.Dir(), "data", c.a.Config.Bucket, filepath.FromSlash(c.a.Archive.WAL(name)))
}

// hookWriter runs fn once, synchronously, when the output first contains
// mark: `tenure restore` prints "recovering to" after the backup is in
// place and before postgres starts, so fn acts exactly between the two.
type hookWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	mark  string
	fn    func()
	fired bool
}

func (w *hookWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.fired && w.fn != nil && strings.Contains(w.buf.String(), w.mark) {
		w.fired = true
		w.fn()
	}
	return len(p), nil
}

// restoreLatest runs `tenure restore` to latest into a new instance's
// data directory, calling between (if set) after the backup is restored
// and before recovery starts.
func (c *archivedCluster) restoreLatest(t *testing.T, between func()) (*testenv.Postgres, int, string, string, time.Duration) {
	t.Helper()
	dst := backuptest.EmptyInstance(t)
	args := []string{"restore", c.cfgFlag, "--data-dir", dst.DataDir, "--restore-command", c.fetch}
	if testenv.ServerCredential(t) != nil {
		args = append(args, "--owner", "postgres")
	}
	out := &hookWriter{mark: "recovering to", fn: between}
	var errOut bytes.Buffer
	e := defaultEnv()
	e.stdin = strings.NewReader("")
	began := time.Now()
	code := run(context.Background(), "tenure", args, out, &errOut, e)
	took := time.Since(began)
	t.Logf("tenure restore: exit %d in %v\n%s%s", code, took.Round(time.Millisecond), out.buf.String(), errOut.String())
	return dst, code, out.buf.String(), errOut.String(), took
}

// controlState is the data directory's pg_control state.
func controlState(t *testing.T, p *testenv.Postgres) string {
	t.Helper()
	out, err := p.Command(context.Background(), "pg_controldata", p.DataDir).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_controldata: %v: %s", err, out)
	}
	cd, err := pgctl.ParseControldata(string(out))
	if err != nil {
		t.Fatal(err)
	}
	return cd.State
}

// assertFailedRestore: non-zero exit, the reason said, the directory
// marked incomplete, and postgres never promoted on it (pg_control still
// in archive recovery) unless promoted is allowed.
func assertFailedRestore(t *testing.T, dst *testenv.Postgres, code int, errOut, why string, promoted bool) {
	t.Helper()
	if code == 0 {
		t.Fatalf("tenure restore exited 0; want a failure")
	}
	if !strings.Contains(errOut, why) {
		t.Errorf("error output does not say %q:\n%s", why, errOut)
	}
	if _, err := os.Stat(filepath.Join(dst.DataDir, restore.IncompleteMarker)); err != nil {
		t.Errorf("failed restore is not marked incomplete: %v", err)
	}
	// Postgres removes recovery.signal as it ends recovery to promote.
	// (pg_control cannot tell: a backup's copy says "in production"
	// until recovery first updates it.)
	if _, err := os.Stat(filepath.Join(dst.DataDir, "recovery.signal")); !promoted && err != nil {
		t.Errorf("recovery.signal is gone (%v): postgres ended recovery and promoted on a history cut short; pg_control: %s",
			err, controlState(t, dst))
	}
}

// TestRestoreNeverEndsEarly restores to latest while the archive fails
// in the ways of issue #14: S3 down, a corrupt WAL object, a segment
// gone. Each run of tenure restore either replays everything or fails
// with the reason and leaves the directory marked incomplete.
func TestRestoreNeverEndsEarly(t *testing.T) {
	if testing.Short() {
		t.Skip("real PostgreSQL and S3")
	}
	c := newArchivedCluster(t)
	mid := c.segments[len(c.segments)/2]

	t.Run("S3 down shorter than fetchRetry: waits, then replays everything", func(t *testing.T) {
		restarted := make(chan error, 1)
		dst, code, out, errOut, _ := c.restoreLatest(t, func() {
			c.a.S3.Stop()
			go func() {
				time.Sleep(fetchRetryForTests / 4) // the outage being simulated, not a wait for a condition
				restarted <- c.a.S3.Start(context.Background())
			}()
		})
		if err := <-restarted; err != nil {
			t.Fatal(err)
		}
		if code != 0 || !strings.Contains(out, "recovery replayed it") {
			t.Fatalf("restore: exit %d\n%s\n%s", code, out, errOut)
		}
		if err := dst.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := backuptest.Query[int](context.Background(), t, dst.DSN("postgres"), "SELECT count(*)::int FROM t"); n != c.rows {
			t.Errorf("restored %d rows, primary committed %d", n, c.rows)
		}
	})

	t.Run("S3 down for the whole recovery: fails, never promotes", func(t *testing.T) {
		dst, code, _, errOut, took := c.restoreLatest(t, c.a.S3.Stop)
		if err := c.a.S3.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		assertFailedRestore(t, dst, code, errOut, "connection refused", false)
		if !strings.Contains(errOut, "exit 255") {
			t.Errorf("wal-fetch did not abort recovery (exit 255):\n%s", errOut)
		}
		t.Logf("RESULT restore-s3-down fetch_retry=%v failed_after=%v", fetchRetryForTests, took.Round(time.Millisecond))
	})

	t.Run("corrupt WAL object mid-range: detected, recovery aborted", func(t *testing.T) {
		obj := c.object(mid)
		orig, err := os.ReadFile(obj)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = os.WriteFile(obj, orig, 0o644) }()
		bad := bytes.Clone(orig)
		bad[len(bad)/2] ^= 0x01
		if err := os.WriteFile(obj, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		dst, code, _, errOut, _ := c.restoreLatest(t, nil)
		assertFailedRestore(t, dst, code, errOut, "corrupt", false)
	})

	t.Run("segment deleted after the plan: stopped short, said where", func(t *testing.T) {
		dst, code, _, errOut, _ := c.restoreLatest(t, func() {
			if err := os.Remove(c.object(mid)); err != nil {
				t.Error(err)
			}
		})
		// PostgreSQL ends recovery at a missing file (that is what "not
		// in the archive" means) and promotes; tenure restore must catch
		// it against the archive's end and refuse the result.
		assertFailedRestore(t, dst, code, errOut, "stopped short", true)
		if !strings.Contains(errOut, c.segments[len(c.segments)-1]) {
			t.Errorf("error does not name the archive's last segment %s:\n%s", c.segments[len(c.segments)-1], errOut)
		}
	})
}

// TestStandbyRidesOutS3Outage: a standby that follows the archive (as a
// standby cluster's leader does) stays in recovery through an S3 outage
// and catches up after it. In standby mode wal-fetch must answer 1 ("not
// now"), never abort: exit 255 there would stop the standby for good.
func TestStandbyRidesOutS3Outage(t *testing.T) {
	if testing.Short() {
		t.Skip("real PostgreSQL and S3")
	}
	ctx := context.Background()
	down := testenv.S3Outage(t)
	c := newArchivedCluster(t)
	dst := backuptest.EmptyInstance(t)
	args := []string{"restore", c.cfgFlag, "--data-dir", dst.DataDir, "--restore-command", c.fetch, "--recover=false"}
	if testenv.ServerCredential(t) != nil {
		args = append(args, "--owner", "postgres")
	}
	if code, out, errOut := runTenure(t, args...); code != 0 {
		t.Fatalf("restore: %d\n%s\n%s", code, out, errOut)
	}
	// A standby of the archive: standby.signal instead of recovery.signal.
	if err := os.Rename(filepath.Join(dst.DataDir, "recovery.signal"), filepath.Join(dst.DataDir, "standby.signal")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dst.DataDir, restore.EndFile)); err != nil {
		t.Fatal(err)
	}
	if err := dst.Start(ctx); err != nil {
		t.Fatal(err)
	}
	rows := func() (int, bool, error) {
		conn, err := pgx.Connect(ctx, dst.DSN("postgres"))
		if err != nil {
			return 0, false, err
		}
		defer conn.Close(ctx)
		var n int
		var inRecovery bool
		err = conn.QueryRow(ctx, "SELECT (SELECT count(*)::int FROM t), pg_is_in_recovery()").Scan(&n, &inRecovery)
		return n, inRecovery, err
	}
	waitRows := func(want int, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			n, rec, err := rows()
			if err == nil && n == want && rec {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("standby has %d rows (in recovery %v, err %v) after %v, want %d in recovery", n, rec, err, within, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitRows(c.rows, 60*time.Second)

	c.a.S3.Stop()
	began := time.Now()
	backuptest.Exec(ctx, t, c.pg.DSN("postgres"), "INSERT INTO t (v) SELECT repeat('y', 200) FROM generate_series(1, 500)",
		"SELECT pg_switch_wal()")
	want := backuptest.Query[int](ctx, t, c.pg.DSN("postgres"), "SELECT count(*)::int FROM t")
	// Throughout the outage the standby stays up and in recovery.
	for time.Since(began) < down {
		n, rec, err := rows()
		if err != nil || !rec {
			t.Fatalf("%v into the S3 outage the standby is down or out of recovery: rows %d, in recovery %v, %v",
				time.Since(began).Round(time.Millisecond), n, rec, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err := c.a.S3.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// The primary's archiver, after three failures, naps for up to a
	// minute: a new segment wakes it. Then the archive is complete.
	resumed := time.Now()
	backuptest.SwitchAndWait(ctx, t, c.pg)
	archived := time.Now()
	waitRows(want, 60*time.Second)
	t.Logf("RESULT standby-s3-outage outage=%v archive_caught_up_after=%v standby_caught_up_after=%v (from the archive complete)",
		down, archived.Sub(resumed).Round(time.Millisecond), time.Since(archived).Round(time.Millisecond))
	log, _ := os.ReadFile(filepath.Join(dst.Dir, "postgres.log"))
	if !strings.Contains(string(log), "connection refused") {
		t.Errorf("the standby never met the outage (no failed wal-fetch in its log)")
	}
}
