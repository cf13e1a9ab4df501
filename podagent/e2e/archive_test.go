package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/podagent/api"
	"github.com/tenure-pg/tenure/podagent/pgctl"
	"github.com/tenure-pg/tenure/walarchive/basebackup"
	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/storage"
	"github.com/tenure-pg/tenure/walarchive/storage/s3store"
	"github.com/tenure-pg/tenure/walarchive/wal"
	"github.com/tenure-pg/tenure/walarchive/walname"
)

// archiveEnv is a real S3 server with one bucket the clusters archive to.
type archiveEnv struct {
	srv    *testenv.S3
	bucket string
}

func newArchiveEnv(t testing.TB) *archiveEnv {
	srv := testenv.StartS3(t)
	return &archiveEnv{srv: srv, bucket: srv.NewBucket(t)}
}

// env is the agents' environment: S3 keys reach the agent, and through it
// postgres's archive_command, as environment variables (a Secret in a pod).
func (e *archiveEnv) env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + e.srv.AccessKey(), "AWS_SECRET_ACCESS_KEY=" + e.srv.SecretKey()}
}

// config writes the archive configuration of cluster/uid and returns it
// with its path.
func (e *archiveEnv) config(t testing.TB, cluster, uid string) (wal.Config, string) {
	t.Helper()
	cfg := wal.Config{
		Store: wal.StoreS3,
		S3: &wal.S3Config{Endpoint: e.srv.Endpoint(), Region: e.srv.Region(), Bucket: e.bucket, PathStyle: true,
			Credentials: s3store.CredentialsEnv},
		Archive: layout.Archive{Cluster: cluster, UID: uid, Major: 15},
	}.Default()
	path := filepath.Join(testenv.OwnedDir(t), cluster+"-archive.json")
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}
	return cfg, path
}

// store opens cfg's store with the test's own copy of the keys.
func (e *archiveEnv) store(t testing.TB, cfg wal.Config) storage.Store {
	t.Helper()
	sc := s3store.Config{Endpoint: cfg.S3.Endpoint, Region: cfg.S3.Region, Bucket: cfg.S3.Bucket, PathStyle: true,
		Credentials: s3store.CredentialsStatic, AccessKeyID: e.srv.AccessKey(), SecretAccessKey: e.srv.SecretKey()}.Default()
	st, err := s3store.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// archived waits until name is in cfg's WAL archive.
func (e *archiveEnv) archived(t testing.TB, c *cluster, cfg wal.Config, name string) {
	t.Helper()
	st := e.store(t, cfg)
	key := cfg.Archive.WAL(name)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := st.Stat(context.Background(), key); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.dumpLogs()
	t.Fatalf("%s not in archive %s within 60s", name, cfg.Archive.Root())
}

// switchWAL ends the primary's current segment and returns its name.
func switchWAL(t testing.TB, p *member) string {
	t.Helper()
	seg, err := query[string](t, p, "SELECT pg_walfile_name(pg_switch_wal())")
	if err != nil {
		t.Fatal(err)
	}
	return seg
}

// leaderOf polls until a member of c reports holding the lock.
func leaderOf(t testing.TB, c *cluster, timeout time.Duration) *member {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, m := range c.members {
			if st, err := m.status(); err == nil && st.Tenure.LockHolder == m.name && st.Tenure.Running {
				return m
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.dumpLogs()
	t.Fatalf("no running lock holder within %v", timeout)
	return nil
}

func logHas(m *member, text string) bool {
	b, _ := os.ReadFile(m.path("agent.log"))
	return strings.Contains(string(b), text)
}

// TestArchiveLifecycle runs one source cluster archiving to a real S3
// server through its agents' WAL service and builds everything the
// archive promises from it: a replica restored from the archive that then
// streams, a standby cluster that follows the archive and is promoted on
// request, the timeline history archived by a failover, and a clone to a
// point in time of the source after the source is gone.
func TestArchiveLifecycle(t *testing.T) {
	kube := testenv.Shared(t)
	e := newArchiveEnv(t)
	srcCfg, srcPath := e.config(t, "alpha", "uid-alpha-1")
	src := newCluster(t, kube, 2, "--archive-config", srcPath, "--backup-schedule", "@hourly", "--backup-immediate",
		"--backup-keep-last", "5")
	src.env = e.env()
	p := startHealthy(t, src)
	if err := exec1(t, p, "INSERT INTO t SELECT generate_series(1, 100)"); err != nil {
		t.Fatal(err)
	}

	// Archiving goes through the agent's WAL service, and the REST status
	// and /metrics show it.
	seg := switchWAL(t, p)
	e.archived(t, src, srcCfg, seg)
	var last *api.ArchiveInfo
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		st, err := p.status()
		last = st.Tenure.Archive
		if err == nil && last != nil && last.Archived > 0 && last.LastArchived >= seg {
			break
		}
		if time.Now().After(deadline) {
			src.dumpLogs()
			t.Fatalf("archive status in REST after 30s: %+v (err %v), want %s archived", last, err, seg)
		}
	}
	if body := fetchBody(t, p.api+"/metrics"); !strings.Contains(body, "tenure_wal_archived_total") || !strings.Contains(body, "tenure_walsvc_") {
		t.Fatalf("/metrics lacks the archive's series:\n%.2000s", body)
	}

	// The leader took the first scheduled backup at once.
	testenv.Eventually(t, 60*time.Second, "first scheduled backup in REST status", func() bool {
		st, err := p.status()
		return err == nil && st.Tenure.Archive != nil && st.Tenure.Archive.Backup != nil && st.Tenure.Archive.Backup.LastBackup != ""
	})
	if body := fetchBody(t, p.api+"/metrics"); !strings.Contains(body, "tenure_backup_last_success_timestamp_seconds") {
		t.Fatalf("/metrics lacks the backup schedule's series:\n%.2000s", body)
	}

	// A base backup by hand, then a replica restored from it.
	ctx := context.Background()
	opts, err := srcCfg.CodecOptions()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := basebackup.Take(ctx, p.dsn(), basebackup.Config{Store: e.store(t, srcCfg), Archive: srcCfg.Archive, Codec: opts, Fast: true}); err != nil {
		t.Fatalf("base backup: %v", err)
	}
	if err := exec1(t, p, "INSERT INTO t SELECT generate_series(101, 150)"); err != nil {
		t.Fatal(err)
	}
	r := src.newMember("pg-2")
	r.extra = append(r.extra, "--replica-from-archive-min-size", "0", "--replica-from-archive-max-wal-percent", "0")
	src.members = append(src.members, r)
	r.start()
	src.waitStreaming(r, 90*time.Second)
	waitRows(t, src, r, "t", 150)
	if !logHas(r, "restored from the archive") {
		src.dumpLogs()
		t.Fatal("pg-2 streams but was not restored from the archive")
	}

	// A standby cluster follows the archive, its replica streams from its
	// standby leader, and it is promoted on request.
	e.archived(t, src, srcCfg, switchWAL(t, p)) // a standby cluster sees archived WAL only
	sbCfg, sbPath := e.config(t, "beta", "uid-beta-1")
	sb := newCluster(t, kube, 2, "--archive-config", sbPath, "--bootstrap-from", srcPath, "--standby-cluster")
	sb.env = e.env()
	sb.startAll()
	sl := leaderOf(t, sb, 120*time.Second)
	waitRows(t, sb, sl, "t", 150)
	if err := exec1(t, p, "INSERT INTO t SELECT generate_series(151, 160)"); err != nil {
		t.Fatal(err)
	}
	e.archived(t, src, srcCfg, switchWAL(t, p))
	waitRows(t, sb, sl, "t", 160)
	sr := other(sb, sl)
	sb.waitStreaming(sr, 90*time.Second)
	if code := sl.get("/primary"); code == 200 {
		t.Fatal("a standby cluster's leader answers /primary")
	}
	for _, path := range []string{"/standby-leader", "/leader", "/readiness"} {
		if code := sl.get(path); code != 200 {
			t.Fatalf("standby leader answers %s with %d, want 200", path, code)
		}
	}
	if err := exec1(t, sl, "INSERT INTO t VALUES (0)"); err == nil {
		t.Fatal("a standby cluster's leader accepted a write")
	}
	// The standby leader dies: its replica takes over and replays the
	// source archive itself; the old leader rejoins as its replica.
	sl.kill9()
	testenv.Eventually(t, 60*time.Second, "the standby replica to take over the lock", func() bool {
		st, err := sr.status()
		return err == nil && st.Tenure.LockHolder == sr.name
	})
	if err := exec1(t, p, "INSERT INTO t SELECT generate_series(161, 170)"); err != nil {
		t.Fatal(err)
	}
	e.archived(t, src, srcCfg, switchWAL(t, p))
	waitRows(t, sb, sr, "t", 170)
	sl.start()
	sb.waitStreaming(sl, 90*time.Second)
	sl, sr = sr, sl

	out, err := exec.Command(cliBin(t), "edit-config", "--kubeconfig", sl.path("kubeconfig"), "-n", sb.ns, "-c", sb.name,
		"--set", "standby_cluster=false", "--force").CombinedOutput()
	if err != nil {
		t.Fatalf("edit-config: %v\n%s", err, out)
	}
	if np := sb.waitPrimary(60 * time.Second); np != sl {
		t.Fatalf("promotion made %s primary, want the standby leader %s", np.name, sl.name)
	}
	if err := exec1(t, sl, "INSERT INTO t VALUES (1000)"); err != nil {
		t.Fatalf("write after promotion: %v", err)
	}
	waitRows(t, sb, sr, "t", 171)
	tl, err := query[int64](t, sl, "SELECT timeline_id FROM pg_control_checkpoint()")
	if err != nil {
		t.Fatal(err)
	}
	e.archived(t, sb, sbCfg, fmt.Sprintf("%08X.history", tl))
	// The source is untouched by the promotion.
	if n, err := count(t, p, "t"); err != nil || n != 170 {
		t.Fatalf("source has %d rows (err %v) after the standby's promotion, want 170", n, err)
	}

	// A standby cluster that streams from the source's primary (and has
	// no source archive): changes arrive without a WAL switch.
	_, hostPath := e.config(t, "delta", "uid-delta-1")
	hs := newCluster(t, kube, 1, "--archive-config", hostPath, "--standby-cluster",
		"--standby-host", net.JoinHostPort(p.ip, strconv.Itoa(p.pgPort)))
	hs.env = e.env()
	hs.startAll()
	hl := leaderOf(t, hs, 120*time.Second)
	waitRows(t, hs, hl, "t", 170)
	if err := exec1(t, p, "INSERT INTO t SELECT generate_series(171, 175)"); err != nil {
		t.Fatal(err)
	}
	waitRows(t, hs, hl, "t", 175)
	if code := hl.get("/standby-leader"); code != 200 {
		t.Fatalf("streaming standby leader answers /standby-leader with %d", code)
	}
	hl.kill9()

	// A failover archives the new timeline's history file.
	p.kill9()
	np := src.waitPrimary(60*time.Second, p)
	ntl, err := query[int64](t, np, "SELECT timeline_id FROM pg_control_checkpoint()")
	if err != nil {
		t.Fatal(err)
	}
	e.archived(t, src, srcCfg, fmt.Sprintf("%08X.history", ntl))
	// The former primary rejoins (pg_rewind runs with
	// --restore-target-wal, its restore_command reaching the archive).
	p.start()
	src.waitStreaming(p, 90*time.Second)

	// A clone to a point in time, made after the source cluster is gone.
	if err := exec1(t, np, "CREATE TABLE pitr (id int)"); err != nil {
		t.Fatal(err)
	}
	if err := exec1(t, np, "INSERT INTO pitr SELECT generate_series(1, 10)"); err != nil {
		t.Fatal(err)
	}
	target, err := query[time.Time](t, np, "SELECT clock_timestamp()")
	if err != nil {
		t.Fatal(err)
	}
	// Commit timestamps have microseconds; make sure the next commit is
	// after the target even on a coarse clock.
	testenv.Eventually(t, time.Second, "clock past the target", func() bool {
		now, err := query[time.Time](t, np, "SELECT clock_timestamp()")
		return err == nil && now.After(target)
	})
	if err := exec1(t, np, "INSERT INTO pitr SELECT generate_series(11, 20)"); err != nil {
		t.Fatal(err)
	}
	e.archived(t, src, srcCfg, switchWAL(t, np))
	for _, m := range src.members {
		m.kill9()
		if err := os.RemoveAll(m.path("data")); err != nil {
			t.Fatal(err)
		}
	}
	cloneCfg, clonePath := e.config(t, "gamma", "uid-gamma-1")
	cl := newCluster(t, kube, 2, "--archive-config", clonePath, "--bootstrap-from", srcPath,
		"--clone-target-time", target.UTC().Format(time.RFC3339Nano))
	cl.env = e.env()
	cl.startAll()
	cp := cl.waitPrimary(180 * time.Second)
	for _, m := range cl.members {
		if m != cp {
			cl.waitStreaming(m, 90*time.Second)
			waitRows(t, cl, m, "pitr", 10)
		}
	}
	waitRows(t, cl, cp, "pitr", 10)
	if n, err := count(t, cp, "t"); err != nil || n != 175 {
		t.Fatalf("clone has %d rows in t (err %v), want 175", n, err)
	}
	// The restore's settings are gone: the clone archives to its own
	// archive and its replicas fetch from it, not from the source.
	auto, err := os.ReadFile(filepath.Join(cp.path("data"), "postgresql.auto.conf"))
	if err != nil || strings.Contains(string(auto), srcPath) {
		t.Fatalf("clone's postgresql.auto.conf still names the source archive (err %v):\n%s", err, auto)
	}
	if err := exec1(t, cp, "INSERT INTO pitr VALUES (99)"); err != nil {
		t.Fatalf("write to the clone: %v", err)
	}
	// The clone archives its own timeline into its own archive.
	ctl, err := query[int64](t, cp, "SELECT timeline_id FROM pg_control_checkpoint()")
	if err != nil {
		t.Fatal(err)
	}
	e.archived(t, cl, cloneCfg, fmt.Sprintf("%08X.history", ctl))
	e.archived(t, cl, cloneCfg, switchWAL(t, cp))
}

func fetchBody(t testing.TB, url string) string {
	t.Helper()
	resp, err := httpc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, resp.Body); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestRewindFetchesFromArchive: a former primary whose WAL back to the
// last common checkpoint is gone from pg_wal (recycled, here deleted after
// it was archived) still rejoins: pg_rewind runs with --restore-target-wal
// and its restore_command fetches those segments from the archive.
func TestRewindFetchesFromArchive(t *testing.T) {
	kube := testenv.Shared(t)
	e := newArchiveEnv(t)
	cfg, path := e.config(t, "epsilon", "uid-epsilon-1")
	c := newCluster(t, kube, 2, "--archive-config", path)
	c.env = e.env()
	p := startHealthy(t, c)
	r := other(c, p)

	// The last checkpoint both will share, then a few archived segments.
	if err := exec1(t, p, "CHECKPOINT"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := exec1(t, p, "INSERT INTO t VALUES ($1)", i); err != nil {
			t.Fatal(err)
		}
		e.archived(t, c, cfg, switchWAL(t, p))
	}
	waitRows(t, c, r, "t", 3)

	// The replica stops receiving; the primary writes on alone (the
	// diverging WAL) and then goes down cleanly without its agent, so no
	// crash recovery needs the old WAL either.
	rpg := r.postmasterPID()
	if err := syscall.Kill(-rpg, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			_ = syscall.Kill(-rpg, syscall.SIGCONT)
			resumed = true
		}
	}
	t.Cleanup(resume)
	// End the frozen replica's stream, so that nothing written from now on
	// reaches it (a shutdown would otherwise still send it everything).
	if err := exec1(t, p, "SELECT pg_terminate_backend(pid) FROM pg_stat_replication"); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "the replica's walsender gone", func() bool {
		n, err := query[int64](t, p, "SELECT count(*) FROM pg_stat_replication")
		return err == nil && n == 0
	})
	// Nor may it reach the archive, from which the replica would replay it
	// before promoting (wal-push falls back to working standalone when the
	// agent is frozen, below).
	if err := exec1(t, p, "ALTER SYSTEM SET archive_command = 'false'"); err != nil {
		t.Fatal(err)
	}
	if err := exec1(t, p, "SELECT pg_reload_conf()"); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "archive_command off on the primary", func() bool {
		v, err := query[string](t, p, "SHOW archive_command")
		return err == nil && v == "false"
	})
	if err := exec1(t, p, "INSERT INTO t SELECT generate_series(100, 199)"); err != nil {
		t.Fatal(err)
	}
	// Freeze the agent (postgres would die with it: its parent-death
	// signal is an immediate shutdown), shut postgres down fast, then
	// kill the agent.
	ppg := p.postmasterPID()
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(ppg, syscall.SIGINT); err != nil { // fast shutdown: a shutdown checkpoint
		t.Fatal(err)
	}
	waitGone(ppg)
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	p.cmd = nil
	p.log.Close()
	resume()
	if np := c.waitPrimary(60*time.Second, p); np != r {
		t.Fatalf("%s became primary, want %s", np.name, r.name)
	}

	// Drop the former primary's archived WAL before its shutdown
	// checkpoint's segment, as recycling would have.
	out, err := exec.Command(filepath.Join(pgBin(), "pg_controldata"), p.path("data")).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_controldata: %v\n%s", err, out)
	}
	cd, err := pgctl.ParseControldata(string(out))
	if err != nil {
		t.Fatal(err)
	}
	keep := walname.SegmentOf(cd.Timeline, cd.RedoLSN, 0).Name(0)
	st := e.store(t, cfg)
	entries, err := os.ReadDir(p.path("data/pg_wal"))
	if err != nil {
		t.Fatal(err)
	}
	dropped := 0
	for _, en := range entries {
		if _, err := walname.ParseSegment(en.Name(), 0); err == nil && en.Name() < keep && isArchived(st, cfg, en.Name()) {
			if err := os.Remove(filepath.Join(p.path("data/pg_wal"), en.Name())); err != nil {
				t.Fatal(err)
			}
			dropped++
		}
	}
	if dropped < 3 {
		t.Fatalf("dropped %d archived segments before %s, want at least 3", dropped, keep)
	}

	p.start()
	c.waitStreaming(p, 120*time.Second)
	if !logHas(p, "rewind done") {
		c.dumpLogs()
		t.Fatal("the former primary streams but did not rewind")
	}
	if err := exec1(t, r, "INSERT INTO t VALUES (1000)"); err != nil {
		t.Fatal(err)
	}
	waitRows(t, c, p, "t", 4)
}

func isArchived(st storage.Store, cfg wal.Config, name string) bool {
	_, err := st.Stat(context.Background(), cfg.Archive.WAL(name))
	return err == nil
}

// pgBin is where the PostgreSQL binaries are.
func pgBin() string {
	if bin := os.Getenv("TENURE_PG_BIN"); bin != "" {
		return bin
	}
	return pgctl.DefaultBinDir
}
