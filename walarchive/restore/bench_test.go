package restore_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/internal/backuptest"
	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/walarchive/basebackup"
	"github.com/tenure-pg/tenure/walarchive/restore"
)

// BenchmarkBackupRestore times a base backup of a pgbench database
// (scale $TENURE_BENCH_SCALE, default 20: about 320 MB) into testenv's S3
// and its restore into an empty directory, and prints RESULT lines (make
// bench-backup). MB/s are of the raw data (the tar bytes).
func BenchmarkBackupRestore(b *testing.B) {
	ctx := context.Background()
	scale := 20
	if s := os.Getenv("TENURE_BENCH_SCALE"); s != "" {
		var err error
		if scale, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	pg := testenv.StartPostgres(b, testenv.PostgresOptions{ExtraConf: []string{"max_wal_size = '4GB'", "checkpoint_timeout = '30min'"}})
	out, err := pg.Command(ctx, "pgbench", "-i", "-s", strconv.Itoa(scale), "-q", "-h", pg.Addr, "-p", strconv.Itoa(pg.Port), "-U", "postgres", "postgres").CombinedOutput()
	if err != nil {
		b.Fatalf("pgbench -i: %v\n%s", err, out)
	}
	a := backuptest.NewArchive(b, testenv.StartS3(b))
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		m, err := basebackup.Take(ctx, pg.DSN("postgres"), basebackup.Config{Store: a.Store, Archive: a.Archive, Fast: true})
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		mb := float64(m.RawSize) / (1 << 20)
		fmt.Printf("RESULT basebackup db_mb=%.0f mb_per_s=%.1f stored_mb=%.0f seconds=%.2f\n", mb, mb/took.Seconds(), float64(m.StoredSize)/(1<<20), took.Seconds())

		obs, err := restore.Observe(ctx, a.Store, a.Archive, nil)
		if err != nil {
			b.Fatal(err)
		}
		obs.Target, obs.BackupID = restore.Target{Kind: restore.Immediate}, m.ID
		plan, err := restore.Decide(obs)
		if err != nil {
			b.Fatal(err)
		}
		dir := testenv.OwnedDir(b)
		start = time.Now()
		if err := restore.Execute(ctx, plan, restore.Options{Store: a.Store, Archive: a.Archive, DataDir: dir + "/data", Owner: backuptest.Owner(b)}); err != nil {
			b.Fatal(err)
		}
		took = time.Since(start)
		fmt.Printf("RESULT restore db_mb=%.0f mb_per_s=%.1f seconds=%.2f\n", mb, mb/took.Seconds(), took.Seconds())
		os.RemoveAll(dir + "/data")
	}
}
