package schedule

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenure-pg/tenure/internal/backuptest"
	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/walarchive/basebackup"
	"github.com/tenure-pg/tenure/walarchive/catalog"
	"github.com/tenure-pg/tenure/walarchive/retention"
)

// TestScheduledBackupsRealParts runs the Runner against PostgreSQL 15 and
// versitygw with real base backups, on a fake clock with a schedule every
// minute: Immediate takes the first backup at start, the next slot takes
// the second, and retention with KeepLast 1 deletes the first, objects
// and all.
func TestScheduledBackupsRealParts(t *testing.T) {
	ctx := context.Background()
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{})
	a := backuptest.NewArchive(t, testenv.StartS3(t))
	dsn := pg.DSN("postgres")
	backuptest.Exec(ctx, t, dsn, "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 10000) g")

	cfg := Config{Schedule: "* * * * *", Immediate: true, Fast: true, Retention: &retention.Policy{KeepLast: 1}}
	h := newHarness(t, cfg, a.Store, a.Archive)
	h.within = 2 * time.Minute // a real backup and S3 round trips per step
	h.dsn = dsn
	var metas []catalog.Meta
	h.r.take = func(ctx context.Context, dsn string, cfg basebackup.Config) (catalog.Meta, error) {
		h.mu.Lock()
		h.takes = append(h.takes, h.clk.Now())
		h.mu.Unlock()
		m, err := basebackup.Take(ctx, dsn, cfg)
		if err == nil {
			metas = append(metas, m)
		}
		return m, err
	}
	h.start()
	h.runUntil(t0.Add(90 * time.Second))

	if got, want := h.takeTimes(), "10:30 10:31"; got != want {
		t.Fatalf("backups at %s, want %s; status %+v", got, want, h.r.Status())
	}
	first, second := metas[0], metas[1]
	sysid := backuptest.Query[string](ctx, t, dsn, "SELECT system_identifier::text FROM pg_control_system()")
	if second.SystemID != sysid || second.ID != "20261123T103100Z" || second.RawSize < 20<<20 {
		t.Errorf("second backup %+v: want system id %s, ID 20261123T103100Z, a real data directory", second, sysid)
	}
	list, err := catalog.List(ctx, a.Store, a.Archive)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Complete) != 1 || len(list.Incomplete) != 0 {
		t.Fatalf("catalogue %+v: want exactly the second backup", list)
	}
	if diff := cmp.Diff(second.ID, list.Complete[0].ID); diff != "" {
		t.Errorf("kept backup (-want +got):\n%s", diff)
	}
	for info, err := range a.Store.List(ctx, a.Archive.Backup(first.ID, "")) {
		t.Errorf("object of the deleted backup %s left: %s, %v", first.ID, info.Key, err)
	}
	s := h.r.Status()
	if s.LastBackupID != second.ID || !s.Next.Equal(t0.Add(2*time.Minute)) || s.Failures[StageBackup]+s.Failures[StageCatalog]+s.Failures[StageRetention] != 0 {
		t.Errorf("status %+v", s)
	}
}
