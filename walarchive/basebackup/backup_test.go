package basebackup_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/internal/backuptest"
	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/walarchive/basebackup"
	"github.com/tenure-pg/tenure/walarchive/catalog"
	"github.com/tenure-pg/tenure/walarchive/codec"
	"github.com/tenure-pg/tenure/walarchive/restore"
)

func config(a *backuptest.Archive) basebackup.Config {
	return basebackup.Config{Store: a.Store, Archive: a.Archive, Fast: true}
}

// TestTakeFromPrimary checks the metadata and the stored objects of a
// backup of a primary under writes.
func TestTakeFromPrimary(t *testing.T) {
	ctx := context.Background()
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{})
	a := backuptest.NewArchive(t, testenv.StartS3(t))
	w := backuptest.StartWriter(ctx, t, pg.DSN("postgres"), "t")
	var progress int64
	cfg := config(a)
	cfg.Progress = func(done, total int64) { progress = done }
	m, err := basebackup.Take(ctx, pg.DSN("postgres"), cfg)
	w.Stop(t)
	if err != nil {
		t.Fatal(err)
	}
	sysid := backuptest.Query[string](ctx, t, pg.DSN("postgres"), "SELECT system_identifier::text FROM pg_control_system()")
	switch {
	case m.SystemID != sysid:
		t.Errorf("system id %s, want %s", m.SystemID, sysid)
	case m.PGVersion/10000 != 15 || m.Timeline != 1 || m.FromReplica || !m.WALIncluded:
		t.Errorf("meta %+v", m)
	case m.StopLSN <= m.StartLSN || !m.StopTime.After(m.StartTime) || m.WALSegmentSize != 16<<20:
		t.Errorf("meta %+v", m)
	case len(m.Archives) != 1 || m.Archives[0].Name != "base.tar" || m.Manifest == nil:
		t.Errorf("archives %+v manifest %+v", m.Archives, m.Manifest)
	case m.Compression != "zstd" || m.StoredSize >= m.RawSize || m.RawSize < 20<<20:
		t.Errorf("sizes raw %d stored %d compression %s", m.RawSize, m.StoredSize, m.Compression)
	case progress == 0:
		t.Errorf("no progress reported")
	}
	list, err := catalog.List(ctx, a.Store, a.Archive)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Complete) != 1 || list.Complete[0].ID != m.ID || len(list.Incomplete) != 0 {
		t.Fatalf("listing %+v", list)
	}
	info, err := a.Store.Stat(ctx, a.Archive.Backup(m.ID, "base.tar"))
	if err != nil || info.Size != m.Archives[0].Stored {
		t.Errorf("stored base.tar %+v, %v; meta says %d bytes", info, err, m.Archives[0].Stored)
	}
	// No replication slot outlives the backup.
	if n := backuptest.Query[int](ctx, t, pg.DSN("postgres"), "SELECT count(*)::int FROM pg_replication_slots"); n != 0 {
		t.Errorf("%d replication slots left behind", n)
	}
}

// TestTakeFromReplica backs up a streaming replica.
func TestTakeFromReplica(t *testing.T) {
	ctx := context.Background()
	primary := testenv.StartPostgres(t, testenv.PostgresOptions{})
	replica := backuptest.EmptyInstance(t)
	out, err := replica.Command(ctx, "pg_basebackup", "-d", primary.DSN("postgres"), "-D", replica.DataDir, "-R", "-X", "stream", "-c", "fast").CombinedOutput()
	if err != nil {
		t.Fatalf("pg_basebackup: %v: %s", err, out)
	}
	if err := replica.Start(ctx); err != nil {
		t.Fatal(err)
	}
	backuptest.Exec(ctx, t, primary.DSN("postgres"), "CREATE TABLE r AS SELECT g FROM generate_series(1, 1000) g")
	a := backuptest.NewArchive(t, testenv.StartS3(t))
	m, err := basebackup.Take(ctx, replica.DSN("postgres"), config(a))
	if err != nil {
		t.Fatal(err)
	}
	if !m.FromReplica || m.StopLSN < m.StartLSN {
		t.Errorf("meta %+v", m)
	}
}

// TestTakeEncrypted records the encryption and compression settings.
func TestTakeEncrypted(t *testing.T) {
	ctx := context.Background()
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{})
	a := backuptest.NewArchive(t, testenv.StartS3(t))
	cfg := config(a)
	cfg.Codec = codec.Options{Compression: codec.LZ4, Key: []byte(strings.Repeat("k", codec.KeySize))}
	m, err := basebackup.Take(ctx, pg.DSN("postgres"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Encrypted || m.Compression != "lz4" {
		t.Errorf("meta %+v", m)
	}
	rc, err := a.Store.Get(ctx, a.Archive.Backup(m.ID, "base.tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := codec.NewReader(rc, nil); !errors.Is(err, codec.ErrKeyRequired) {
		t.Errorf("reading without key: %v, want ErrKeyRequired", err)
	}
	// It restores with the key (checksums verified) and not with another.
	plan := restore.Plan{Backup: m, Target: restore.Target{Kind: restore.Immediate}}
	opts := restore.Options{Store: a.Store, Archive: a.Archive, Key: cfg.Codec.Key, DataDir: filepath.Join(t.TempDir(), "data")}
	if err := restore.Execute(ctx, plan, opts); err != nil {
		t.Fatalf("restore with the key: %v", err)
	}
	opts.Key, opts.DataDir = []byte(strings.Repeat("x", codec.KeySize)), filepath.Join(t.TempDir(), "data")
	if err := restore.Execute(ctx, plan, opts); !errors.Is(err, codec.ErrWrongKey) {
		t.Errorf("restore with another key: %v, want ErrWrongKey", err)
	}
}

// TestTakeRefusals: bad settings and an ID in use change nothing.
func TestTakeRefusals(t *testing.T) {
	ctx := context.Background()
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{})
	a := backuptest.NewArchive(t, testenv.StartS3(t))
	now := time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)
	id := catalog.NewID(now)
	if err := a.Store.Put(ctx, a.Archive.Backup(id, "base.tar"), strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	cfg := config(a)
	cfg.Now = func() time.Time { return now }
	if _, err := basebackup.Take(ctx, pg.DSN("postgres"), cfg); !errors.Is(err, catalog.ErrExists) {
		t.Errorf("ID in use: %v, want ErrExists", err)
	}
	cfg = config(a)
	cfg.Archive.Major = 16
	if _, err := basebackup.Take(ctx, pg.DSN("postgres"), cfg); !errors.Is(err, basebackup.ErrWrongMajor) {
		t.Errorf("wrong major: %v", err)
	}
	cfg = config(a)
	cfg.MaxRateKB = 1
	if _, err := basebackup.Take(ctx, pg.DSN("postgres"), cfg); err == nil || !strings.Contains(err.Error(), strconv.Itoa(1)) {
		t.Errorf("bad max rate: %v", err)
	}
	var keys []string
	for info, err := range a.Store.List(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, info.Key)
	}
	if len(keys) != 1 {
		t.Errorf("store holds %v, want only the planted object", keys)
	}
}
