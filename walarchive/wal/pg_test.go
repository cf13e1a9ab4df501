package wal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/walarchive/walname"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// archivingPG starts postgres archiving through `tenure-agent wal-push`
// into s's bucket. S3 keys reach the command through its environment, as
// the agent's environment reaches postgres in a pod; wal_keep_size keeps
// every segment in pg_wal so the test can compare it with the archive.
func archivingPG(t *testing.T, s s3Setup) (*testenv.Postgres, string) {
	t.Helper()
	cfgPath := filepath.Join(testenv.OwnedDir(t), "tenure-archive.json")
	if err := s.cfg.Save(cfgPath); err != nil {
		t.Fatal(err)
	}
	cmd := fmt.Sprintf("AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s %s wal-push --config %s %%p",
		s.srv.AccessKey(), s.srv.SecretKey(), testenv.AgentBinary(t), cfgPath)
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{ExtraConf: []string{
		"wal_level = replica", "archive_mode = on", "archive_command = '" + cmd + "'",
		"wal_keep_size = '2GB'", "max_wal_size = '2GB'", "checkpoint_timeout = '30min'",
	}})
	return pg, cfgPath
}

func connect(t *testing.T, pg *testenv.Postgres) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), pg.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// switchWAL writes a little, switches segments and returns the name of
// the segment the switch completed.
func switchWAL(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	var name string
	if _, err := conn.Exec(t.Context(), "CREATE TABLE IF NOT EXISTS t (v int); INSERT INTO t SELECT generate_series(1, 1000)"); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(t.Context(), "SELECT pg_walfile_name(pg_switch_wal())").Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}

type archiverStat struct {
	LastArchived, LastFailed string
	Archived, Failed         int64
}

func archiverStatus(t *testing.T, conn *pgx.Conn) archiverStat {
	t.Helper()
	var s archiverStat
	err := conn.QueryRow(t.Context(), `SELECT coalesce(last_archived_wal, ''), coalesce(last_failed_wal, ''),
		archived_count, failed_count FROM pg_stat_archiver`).Scan(&s.LastArchived, &s.LastFailed, &s.Archived, &s.Failed)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitStat polls pg_stat_archiver until ok holds or the deadline passes.
func waitStat(t *testing.T, conn *pgx.Conn, within time.Duration, what string, ok func(archiverStat) bool) archiverStat {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		s := archiverStatus(t, conn)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; pg_stat_archiver: %+v", within, what, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func pgbench(t *testing.T, pg *testenv.Postgres, args ...string) {
	t.Helper()
	args = append(args, "-h", pg.Addr, "-p", strconv.Itoa(pg.Port), "-U", "postgres", "postgres")
	if out, err := pg.Command(t.Context(), "pgbench", args...).CombinedOutput(); err != nil {
		t.Fatalf("pgbench %v: %v\n%s", args, err, out)
	}
}

// TestArchiveUnderPgbench: postgres archives through `tenure-agent
// wal-push` under pgbench load; the archive then holds every segment from
// the first to the last archived without a gap, each byte-identical to
// pg_wal's copy, fetched through the Archiver and through wal-fetch.
func TestArchiveUnderPgbench(t *testing.T) {
	s := newS3Setup(t, testenv.StartS3(t))
	pg, cfgPath := archivingPG(t, s)
	conn := connect(t, pg)
	began := time.Now()
	pgbench(t, pg, "-i", "-s", "10", "-q")
	pgbench(t, pg, "-c", "4", "-j", "2", "-T", "8")
	last := switchWAL(t, conn)
	st := waitStat(t, conn, 90*time.Second, "archiving up to "+last, func(s archiverStat) bool { return s.LastArchived >= last })
	took := time.Since(began)
	if st.Failed != 0 {
		t.Errorf("archive_command failed %d times without an outage (last %s)", st.Failed, st.LastFailed)
	}
	n := checkArchive(t, s, pg, last)
	t.Logf("pgbench load archived %d segments (%d MiB) in %v including the load; pg_stat_archiver %+v",
		n, n*16, took.Round(time.Millisecond), st)
	checkCommands(t, s, pg, cfgPath, last)
}

// TestArchiveSurvivesS3Outage: with S3 stopped archive_command fails and
// postgres retries (failed_count rises) and keeps the WAL; after S3
// returns the archive catches up with no gap and nothing lost.
func TestArchiveSurvivesS3Outage(t *testing.T) {
	s := newS3Setup(t, testenv.StartS3(t))
	pg, _ := archivingPG(t, s)
	conn := connect(t, pg)
	before := switchWAL(t, conn)
	waitStat(t, conn, 30*time.Second, "archiving "+before, func(s archiverStat) bool { return s.LastArchived >= before })

	s.srv.Stop()
	var during []string
	for range 3 {
		during = append(during, switchWAL(t, conn))
	}
	st := waitStat(t, conn, 60*time.Second, "failed archive attempts", func(s archiverStat) bool { return s.Failed >= 2 })
	if st.LastArchived != before {
		t.Errorf("archived %s while S3 was down", st.LastArchived)
	}
	for _, name := range during {
		if _, err := os.Stat(filepath.Join(pg.DataDir, "pg_wal", "archive_status", name+".ready")); err != nil {
			t.Errorf("%s not waiting for archiving during the outage: %v", name, err)
		}
	}

	if err := s.srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	last := switchWAL(t, conn) // a new .ready also wakes the archiver
	st = waitStat(t, conn, 90*time.Second, "catching up to "+last, func(s archiverStat) bool { return s.LastArchived >= last })
	t.Logf("caught up %v after S3 returned; pg_stat_archiver %+v", time.Since(back).Round(time.Millisecond), st)
	checkArchive(t, s, pg, last)
}

// checkArchive asserts that the archive's segments run from the first
// WAL segment to at least last with no gap and no conflicts, and that
// each one still in pg_wal fetches byte-identical. It returns the count.
func checkArchive(t *testing.T, s s3Setup, pg *testenv.Postgres, last string) int {
	t.Helper()
	lastSeg, err := walname.ParseSegment(last, 0)
	if err != nil {
		t.Fatal(err)
	}
	var segs []walname.Segment
	var stored int64
	for info, err := range s.store.List(t.Context(), s.cfg.Archive.WALPrefix()) {
		if err != nil {
			t.Fatal(err)
		}
		key := info.Key
		stored += info.Size
		name, _ := s.cfg.Archive.WALName(key)
		f, err := walname.Parse(name, 0)
		if err != nil {
			t.Errorf("unexpected object %s: %v", key, err)
			continue
		}
		if f.Kind == walname.KindSegment {
			segs = append(segs, f.Segment)
		}
	}
	if len(segs) == 0 || segs[0].No != 1 || segs[len(segs)-1].No < lastSeg.No {
		t.Fatalf("archive holds segments %v, want 1 to at least %d", segs, lastSeg.No)
	}
	for i := 1; i < len(segs); i++ {
		if segs[i] != segs[i-1].Next() {
			t.Errorf("gap: %s follows %s", segs[i].Name(0), segs[i-1].Name(0))
		}
	}
	dest := filepath.Join(t.TempDir(), "RECOVERYXLOG")
	began, compared := time.Now(), 0
	for _, seg := range segs {
		local, err := os.ReadFile(filepath.Join(pg.DataDir, "pg_wal", seg.Name(0)))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := s.a.Fetch(t.Context(), seg.Name(0), dest); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(dest); !bytes.Equal(got, local) {
			t.Errorf("%s: archived copy differs from pg_wal's", seg.Name(0))
		}
		compared++
	}
	if compared < len(segs)/2 {
		t.Errorf("only %d of %d archived segments were still in pg_wal to compare", compared, len(segs))
	}
	t.Logf("archive: %d segments, no gap, stored in %.1f%% of their size; %d fetched and compared in %v",
		len(segs), 100*float64(stored)/float64(len(segs)*16<<20), compared, time.Since(began).Round(time.Millisecond))
	return len(segs)
}

// checkCommands runs `tenure-agent wal-fetch` as restore_command would:
// exit 0 with the file for an archived segment, exit 1 for one that is
// not archived; and `wal-push` of a segment twice into another archive:
// exit 0 both times.
func checkCommands(t *testing.T, s s3Setup, pg *testenv.Postgres, cfgPath, name string) {
	t.Helper()
	dir := t.TempDir()
	command := func(args ...string) (int, string) {
		cmd := exec.CommandContext(t.Context(), testenv.AgentBinary(t), args...)
		cmd.Dir = dir
		cmd.Env = []string{"AWS_ACCESS_KEY_ID=" + s.srv.AccessKey(), "AWS_SECRET_ACCESS_KEY=" + s.srv.SecretKey()}
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), string(out)
	}
	run := func(name string) (int, string) {
		return command("wal-fetch", "--config", cfgPath, name, "pg_wal/RECOVERYXLOG")
	}
	if err := os.Mkdir(filepath.Join(dir, "pg_wal"), 0o700); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if code, out := run(name); code != 0 {
		t.Fatalf("wal-fetch %s: exit %d: %s", name, code, out)
	}
	t.Logf("wal-fetch %s as a process (start, config, fetch, verify, fsync): %v", name, time.Since(began).Round(time.Millisecond))
	got, _ := os.ReadFile(filepath.Join(dir, "pg_wal", "RECOVERYXLOG"))
	if want, _ := os.ReadFile(filepath.Join(pg.DataDir, "pg_wal", name)); !bytes.Equal(got, want) {
		t.Errorf("wal-fetch %s wrote %d bytes that differ from pg_wal's", name, len(got))
	}
	missing := walname.HistoryName(7)
	if code, out := run(missing); code != 1 {
		t.Errorf("wal-fetch %s (not archived): exit %d, want 1: %s", missing, code, out)
	}
	other := s.cfg
	other.Archive.UID = "another-uid"
	otherPath := filepath.Join(dir, "other.json")
	if err := other.Save(otherPath); err != nil {
		t.Fatal(err)
	}
	segment := filepath.Join(pg.DataDir, "pg_wal", name)
	for _, what := range []string{"new", "identical again"} {
		began := time.Now()
		if code, out := command("wal-push", "--config", otherPath, segment); code != 0 {
			t.Fatalf("wal-push %s (%s): exit %d: %s", name, what, code, out)
		}
		t.Logf("wal-push of a 16 MiB segment as a process (%s): %v", what, time.Since(began).Round(time.Millisecond))
	}
}
