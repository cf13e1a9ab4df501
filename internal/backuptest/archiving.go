package backuptest

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/walarchive/storage/s3store"
	"github.com/tenure-pg/tenure/walarchive/wal"
)

// WALConfig is the archive as tenure-archive.json describes it (keys from
// the environment), saved into a directory the postgres user owns.
func (a *Archive) WALConfig(t testing.TB) (wal.Config, string) {
	t.Helper()
	cfg := wal.Config{
		Store: wal.StoreS3,
		S3: &wal.S3Config{Endpoint: a.Config.Endpoint, Region: a.Config.Region, Bucket: a.Config.Bucket,
			PathStyle: true, Credentials: s3store.CredentialsEnv},
		Archive: a.Archive,
	}.Default()
	path := filepath.Join(testenv.OwnedDir(t), "tenure-archive.json")
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}
	return cfg, path
}

// agentCommand is `<env> tenure-agent <sub> --config <cfg> <args>` as
// postgres runs it: the S3 keys reach it through its environment, as the
// agent's environment reaches postgres in a pod.
func (a *Archive) agentCommand(t testing.TB, cfgPath, sub, args string) string {
	return fmt.Sprintf("AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s %s %s --config %s %s",
		a.S3.AccessKey(), a.S3.SecretKey(), testenv.AgentBinary(t), sub, cfgPath, args)
}

// ArchivingPrimary starts postgres archiving through `tenure-agent
// wal-push` into a, and returns it with the restore_command that fetches
// from the same archive. The package's TestMain must call testenv.Main,
// which removes the agent binary (testenv.AgentBinary) it builds.
func (a *Archive) ArchivingPrimary(t testing.TB, extra ...string) (*testenv.Postgres, string) {
	t.Helper()
	_, cfgPath := a.WALConfig(t)
	a.ConfigPath = cfgPath
	push := a.agentCommand(t, cfgPath, "wal-push", "%p")
	conf := append([]string{"wal_level = replica", "archive_mode = on", "archive_command = '" + push + "'"}, extra...)
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{ExtraConf: conf})
	return pg, a.agentCommand(t, cfgPath, "wal-fetch", "%f %p")
}

// SwitchAndWait ends the current segment and waits until the archiver
// has stored it.
func SwitchAndWait(ctx context.Context, t testing.TB, pg *testenv.Postgres) string {
	t.Helper()
	seg := Query[string](ctx, t, pg.DSN("postgres"), "SELECT pg_walfile_name(pg_switch_wal())")
	deadline := time.Now().Add(30 * time.Second)
	for {
		last := Query[string](ctx, t, pg.DSN("postgres"), "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
		if last >= seg {
			return seg
		}
		if time.Now().After(deadline) {
			failed := Query[string](ctx, t, pg.DSN("postgres"), "SELECT coalesce(last_failed_wal, '') FROM pg_stat_archiver")
			t.Fatalf("segment %s not archived within 30s (last archived %q, last failed %q)", seg, last, failed)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
