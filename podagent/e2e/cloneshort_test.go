package e2e

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/walarchive/basebackup"
	"github.com/tenure-pg/tenure/walarchive/codec"
	"github.com/tenure-pg/tenure/walarchive/restore"
	"github.com/tenure-pg/tenure/walarchive/wal"
)

// TestCloneNeverPromotesShort clones to latest from an archive whose
// middle segment is intact as an object (its checksum holds) but is not
// valid WAL: the worst case, because postgres then ends recovery there
// and promotes on its own. The agent must see that recovery stopped short
// of the archive's end, never make the clone the cluster's primary, stop
// it, mark its data directory incomplete and say why.
func TestCloneNeverPromotesShort(t *testing.T) {
	kube := testenv.Shared(t)
	e := newArchiveEnv(t)
	srcCfg, srcPath := e.config(t, "delta", "uid-delta-1")
	segs := archivedSource(t, kube, e, srcCfg, srcPath, 5)
	opts, err := srcCfg.CodecOptions()
	if err != nil {
		t.Fatal(err)
	}
	mid := segs[2]
	e.replaceWAL(t, srcCfg, opts, mid, make([]byte, srcCfg.SegmentSize)) // zeros: "invalid magic number" to postgres

	_, clonePath := e.config(t, "epsilon", "uid-epsilon-1")
	cl := newCluster(t, kube, 1, "--archive-config", clonePath, "--bootstrap-from", srcPath)
	cl.env = e.env()
	cl.startAll()
	m := cl.members[0]
	deadline := time.Now().Add(180 * time.Second)
	for !logHas(m, "restore abandoned") {
		if m.get("/primary") == 200 {
			cl.dumpLogs()
			t.Fatal("the clone answers /primary on a history cut short")
		}
		if time.Now().After(deadline) {
			cl.dumpLogs()
			t.Fatal("the clone member did not report its restore abandoned within 180s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !logHas(m, "stopped short") || !logHas(m, segs[len(segs)-1]) {
		cl.dumpLogs()
		t.Errorf("the member does not say where recovery stopped and where the archive ends (%s)", segs[len(segs)-1])
	}
	if _, err := os.Stat(filepath.Join(m.path("data"), restore.IncompleteMarker)); err != nil {
		t.Errorf("abandoned clone not marked incomplete: %v", err)
	}
	if st, err := m.status(); err == nil && st.Tenure.Running {
		t.Errorf("abandoned clone's postgres still runs")
	}
	if code := m.get("/primary"); code == 200 {
		t.Errorf("abandoned clone answers /primary")
	}
}

// TestCloneWaitsOnCorruptArchive clones to latest from an archive whose
// middle segment object fails its checksum: wal-fetch retries for the
// source config's fetchRetry and then aborts recovery (exit 255), so
// postgres stops instead of promoting; the agent starts it again (the
// archive may be repaired) and the clone never becomes a primary.
func TestCloneWaitsOnCorruptArchive(t *testing.T) {
	kube := testenv.Shared(t)
	e := newArchiveEnv(t)
	srcCfg, srcPath := e.config(t, "zeta", "uid-zeta-1")
	segs := archivedSource(t, kube, e, srcCfg, srcPath, 3)
	obj := filepath.Join(e.srv.Dir(), "data", e.bucket, filepath.FromSlash(srcCfg.Archive.WAL(segs[1])))
	b, err := os.ReadFile(obj)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(obj, b, 0o644); err != nil {
		t.Fatal(err)
	}
	srcCfg.FetchRetry = wal.Duration(2 * time.Second)
	if err := srcCfg.Save(srcPath); err != nil {
		t.Fatal(err)
	}

	_, clonePath := e.config(t, "eta", "uid-eta-1")
	cl := newCluster(t, kube, 1, "--archive-config", clonePath, "--bootstrap-from", srcPath)
	cl.env = e.env()
	cl.startAll()
	m := cl.members[0]
	// Two aborted recoveries (each after fetchRetry), and never a primary.
	aborted := func() int {
		log, _ := os.ReadFile(m.path("postgres.log"))
		return strings.Count(string(log), "child process exited with exit code 255")
	}
	deadline := time.Now().Add(120 * time.Second)
	for aborted() < 2 {
		if m.get("/primary") == 200 {
			cl.dumpLogs()
			t.Fatal("the clone answers /primary on a history cut short")
		}
		if time.Now().After(deadline) {
			cl.dumpLogs()
			t.Fatalf("postgres aborted recovery %d times in 120s, want 2", aborted())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st, err := m.status(); err == nil && st.Role == "primary" {
		t.Errorf("the clone's postgres runs out of recovery")
	}
	log, _ := os.ReadFile(m.path("postgres.log"))
	if !strings.Contains(string(log), "corrupt") {
		t.Errorf("postgres log does not say the archive object is corrupt")
	}
	testenv.Eventually(t, 30*time.Second, "the member to say why its recovery is retried", func() bool {
		return logHas(m, "the last attempt was aborted, retrying") && logHas(m, "corrupt")
	})
}

// replaceWAL overwrites the archived object of WAL file name with plain
// encoded as the archive encodes it, straight in the S3 server's files:
// what a bad upload or a bug upstream could leave, with a valid checksum.
func (e *archiveEnv) replaceWAL(t testing.TB, cfg wal.Config, opts codec.Options, name string, plain []byte) {
	t.Helper()
	var buf bytes.Buffer
	w, err := codec.NewWriter(&buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, bytes.NewReader(plain)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.srv.Dir(), "data", e.bucket, filepath.FromSlash(cfg.Archive.WAL(name)))
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("archived object of %s: %v", name, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// archivedSource is a one-member cluster archiving into srcCfg: a base
// backup, then n segments of 100 rows each, archived; the member is then
// killed (a clone needs only the archive). It returns the segments' names.
func archivedSource(t testing.TB, kube *testenv.Kube, e *archiveEnv, srcCfg wal.Config, srcPath string, n int) []string {
	src := newCluster(t, kube, 1, "--archive-config", srcPath)
	src.env = e.env()
	p := startHealthy(t, src)
	opts, err := srcCfg.CodecOptions()
	if err != nil {
		t.Fatal(err)
	}
	cfg := basebackup.Config{Store: e.store(t, srcCfg), Archive: srcCfg.Archive, Codec: opts, Fast: true}
	if _, err := basebackup.Take(context.Background(), p.dsn(), cfg); err != nil {
		t.Fatalf("base backup: %v", err)
	}
	var segs []string
	for i := range n {
		if err := exec1(t, p, "INSERT INTO t SELECT generate_series($1::int, $1::int + 99)", i*100+1); err != nil {
			t.Fatal(err)
		}
		seg := switchWAL(t, p)
		e.archived(t, src, srcCfg, seg)
		segs = append(segs, seg)
	}
	for _, m := range src.members {
		m.kill9()
	}
	return segs
}
