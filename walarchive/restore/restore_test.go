package restore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/internal/backuptest"
	"github.com/tenure-pg/tenure/internal/lsn"
	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/walarchive/basebackup"
	"github.com/tenure-pg/tenure/walarchive/restore"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// marks records where the PITR targets lie: rows "before-X" committed
// before target X, "after-X" after it.
type marks struct {
	time  time.Time
	lsn   lsn.LSN
	name  string
	total int // rows in t on the primary at the end
	sum   string
}

func mark(ctx context.Context, t *testing.T, dsn, label string) {
	backuptest.Exec(ctx, t, dsn, fmt.Sprintf("INSERT INTO marks VALUES ('%s')", label))
}

// TestRestore backs up a primary under writes, archives WAL through
// tenure-agent, and restores to latest, a time, an LSN and a named
// restore point, each into a fresh directory started as a real server.
func TestRestore(t *testing.T) {
	ctx := context.Background()
	a := backuptest.NewArchive(t, testenv.StartS3(t))
	pg, fetch := a.ArchivingPrimary(t)
	dsn := pg.DSN("postgres")
	backuptest.Exec(ctx, t, dsn, "CREATE TABLE marks (label text PRIMARY KEY)")
	w := backuptest.StartWriter(ctx, t, dsn, "t")
	w.Advance(t, 50) // rows before the backup starts
	b, err := basebackup.Take(ctx, dsn, basebackup.Config{Store: a.Store, Archive: a.Archive, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	w.Advance(t, 50) // rows after it ends
	w.Stop(t)

	var m marks
	mark(ctx, t, dsn, "before-time")
	m.time = backuptest.Query[time.Time](ctx, t, dsn, "SELECT clock_timestamp()")
	mark(ctx, t, dsn, "after-time")
	mark(ctx, t, dsn, "before-lsn")
	l := backuptest.Query[string](ctx, t, dsn, "SELECT pg_current_wal_insert_lsn()::text")
	if m.lsn, err = lsn.Parse(l); err != nil {
		t.Fatal(err)
	}
	mark(ctx, t, dsn, "after-lsn")
	mark(ctx, t, dsn, "before-name")
	m.name = "before_upgrade"
	backuptest.Exec(ctx, t, dsn, "SELECT pg_create_restore_point('"+m.name+"')")
	mark(ctx, t, dsn, "after-name")
	m.total = backuptest.Query[int](ctx, t, dsn, "SELECT count(*)::int FROM t")
	m.sum = backuptest.Query[string](ctx, t, dsn, "SELECT md5(string_agg(id::text || v, ',' ORDER BY id)) FROM t")
	backuptest.SwitchAndWait(ctx, t, pg)
	if m.total == 0 {
		t.Fatal("writer committed nothing")
	}

	restoreTo := func(t *testing.T, target restore.Target) *testenv.Postgres {
		t.Helper()
		obs, err := restore.Observe(ctx, a.Store, a.Archive, nil)
		if err != nil {
			t.Fatal(err)
		}
		obs.Target = target
		plan, err := restore.Decide(obs)
		if err != nil {
			t.Fatal(err)
		}
		if plan.Backup.ID != b.ID {
			t.Fatalf("plan chose %s, want %s", plan.Backup.ID, b.ID)
		}
		t.Log(plan.Reason)
		dst := backuptest.EmptyInstance(t)
		err = restore.Execute(ctx, plan, restore.Options{Store: a.Store, Archive: a.Archive, DataDir: dst.DataDir,
			RestoreCommand: fetch, Owner: backuptest.Owner(t), ChunkSize: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dst.DataDir, restore.IncompleteMarker)); !os.IsNotExist(err) {
			t.Fatalf("finished restore still carries %s (stat: %v)", restore.IncompleteMarker, err)
		}
		backuptest.StartRestored(ctx, t, dst)
		return dst
	}
	labels := func(t *testing.T, p *testenv.Postgres) string {
		return backuptest.Query[string](ctx, t, p.DSN("postgres"), "SELECT coalesce(string_agg(label, ' ' ORDER BY label), '') FROM marks")
	}

	t.Run("latest gives identical data", func(t *testing.T) {
		dst := restoreTo(t, restore.Target{})
		n := backuptest.Query[int](ctx, t, dst.DSN("postgres"), "SELECT count(*)::int FROM t")
		sum := backuptest.Query[string](ctx, t, dst.DSN("postgres"), "SELECT md5(string_agg(id::text || v, ',' ORDER BY id)) FROM t")
		if n != m.total || sum != m.sum {
			t.Errorf("restored %d rows (md5 %s), primary has %d (md5 %s)", n, sum, m.total, m.sum)
		}
		if got, want := labels(t, dst), "after-lsn after-name after-time before-lsn before-name before-time"; got != want {
			t.Errorf("marks %q, want %q", got, want)
		}
	})
	for _, tc := range []struct {
		name   string
		target restore.Target
		want   string
	}{
		{"time", restore.Target{Kind: restore.Time, Time: m.time}, "before-time"},
		{"lsn", restore.Target{Kind: restore.LSN, LSN: m.lsn}, "after-time before-lsn before-time"},
		{"name", restore.Target{Kind: restore.Name, Name: m.name, Action: restore.Pause}, "after-lsn after-time before-lsn before-name before-time"},
	} {
		t.Run(tc.name+" lands exactly", func(t *testing.T) {
			dst := restoreTo(t, tc.target)
			labelsGot := labels(t, dst)
			if labelsGot != tc.want {
				t.Errorf("marks %q, want %q", labelsGot, tc.want)
			}
			// Every row of t committed before the backup ended is there.
			if n := backuptest.Query[int](ctx, t, dst.DSN("postgres"), "SELECT count(*)::int FROM t"); n != m.total {
				t.Errorf("restored %d rows of t, want %d", n, m.total)
			}
		})
	}

	t.Run("non-empty directory is refused and untouched", func(t *testing.T) {
		dir := t.TempDir()
		keep := filepath.Join(dir, "PG_VERSION")
		if err := os.WriteFile(keep, []byte("14\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		obs, err := restore.Observe(ctx, a.Store, a.Archive, nil)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := restore.Decide(obs)
		if err != nil {
			t.Fatal(err)
		}
		err = restore.Execute(ctx, plan, restore.Options{Store: a.Store, Archive: a.Archive, DataDir: dir})
		if !errors.Is(err, restore.ErrNotEmpty) {
			t.Fatalf("Execute into non-empty dir: %v, want ErrNotEmpty", err)
		}
		entries, _ := os.ReadDir(dir)
		content, _ := os.ReadFile(keep)
		if len(entries) != 1 || string(content) != "14\n" {
			t.Errorf("directory changed: %v, PG_VERSION %q", entries, content)
		}
	})

	t.Run("missing WAL is refused before anything is written", func(t *testing.T) {
		obs, err := restore.Observe(ctx, a.Store, a.Archive, nil)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := restore.Decide(obs)
		if err != nil || len(plan.WAL) < 2 {
			t.Fatalf("plan %+v, %v: want at least two segments from the backup's end", plan, err)
		}
		gap := plan.WAL[0] // the stop segment: the backup holds it only up to the stop LSN
		if err := a.Store.Delete(ctx, a.Archive.WAL(gap)); err != nil {
			t.Fatal(err)
		}
		obs, err = restore.Observe(ctx, a.Store, a.Archive, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = restore.Decide(obs)
		if !errors.Is(err, restore.ErrWALMissing) || !strings.Contains(err.Error(), gap) {
			t.Errorf("Decide with %s deleted: %v, want ErrWALMissing naming it", gap, err)
		}
	})
}
