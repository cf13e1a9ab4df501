package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/walarchive/basebackup"
)

// TestStandbyClusterRidesOutS3Outage: a standby cluster following its
// source's archive keeps its standby leader in recovery (never aborted,
// never promoted) through an S3 outage, and replays what the source
// wrote meanwhile once S3 is back.
func TestStandbyClusterRidesOutS3Outage(t *testing.T) {
	kube := testenv.Shared(t)
	down := testenv.S3Outage(t)
	e := newArchiveEnv(t)
	srcCfg, srcPath := e.config(t, "theta", "uid-theta-1")
	src := newCluster(t, kube, 1, "--archive-config", srcPath)
	src.env = e.env()
	p := startHealthy(t, src)
	opts, err := srcCfg.CodecOptions()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := basebackup.Take(context.Background(), p.dsn(), basebackup.Config{Store: e.store(t, srcCfg), Archive: srcCfg.Archive, Codec: opts, Fast: true}); err != nil {
		t.Fatalf("base backup: %v", err)
	}
	if err := exec1(t, p, "INSERT INTO t SELECT generate_series(1, 100)"); err != nil {
		t.Fatal(err)
	}
	e.archived(t, src, srcCfg, switchWAL(t, p))
	_, sbPath := e.config(t, "iota", "uid-iota-1")
	sb := newCluster(t, kube, 1, "--archive-config", sbPath, "--bootstrap-from", srcPath, "--standby-cluster")
	sb.env = e.env()
	sb.startAll()
	sl := leaderOf(t, sb, 120*time.Second)
	waitRows(t, sb, sl, "t", 100)
	pgPID := sl.postmasterPID()

	e.srv.Stop()
	began := time.Now()
	if err := exec1(t, p, "INSERT INTO t SELECT generate_series(101, 200)"); err != nil {
		t.Fatal(err)
	}
	switchWAL(t, p) // archived once S3 is back
	for time.Since(began) < down {
		if code := sl.get("/standby-leader"); code != 200 {
			sb.dumpLogs()
			t.Fatalf("%v into the S3 outage the standby leader answers /standby-leader with %d", time.Since(began).Round(time.Millisecond), code)
		}
		if sl.get("/primary") == 200 {
			sb.dumpLogs()
			t.Fatal("the standby leader was promoted during the S3 outage")
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err := e.srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	// The source's archiver naps up to a minute after failures; a new
	// segment wakes it.
	if err := exec1(t, p, "INSERT INTO t SELECT generate_series(201, 210)"); err != nil {
		t.Fatal(err)
	}
	e.archived(t, src, srcCfg, switchWAL(t, p))
	archived := time.Now()
	waitRows(t, sb, sl, "t", 210)
	t.Logf("RESULT standby-cluster-s3-outage outage=%v source_archive_caught_up_after=%v standby_caught_up_after=%v",
		down, archived.Sub(resumed).Round(time.Millisecond), time.Since(archived).Round(time.Millisecond))
	if pid := sl.postmasterPID(); pid != pgPID {
		t.Errorf("the standby leader's postgres restarted during the outage (pid %d, was %d)", pid, pgPID)
	}
	log, _ := os.ReadFile(sl.path("postgres.log"))
	if !strings.Contains(string(log), "connection refused") {
		t.Errorf("the standby leader never met the outage (no failed wal-fetch in its log)")
	}
	if strings.Contains(string(log), "exit code 255") {
		t.Errorf("wal-fetch aborted a standby's recovery")
	}
}
