package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenure-pg/tenure/internal/backuptest"
	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/walarchive/catalog"
	"github.com/tenure-pg/tenure/walarchive/restore"
)

func runTenure(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := defaultEnv()
	e.stdin = strings.NewReader("")
	code := run(context.Background(), "tenure", args, &out, &errOut, e)
	return code, out.String(), errOut.String()
}

// TestBackupCLI drives `tenure backup` and `tenure restore` against a
// real archiving PostgreSQL 15 and a real S3 server.
func TestBackupCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("real PostgreSQL and S3")
	}
	ctx := context.Background()
	a := backuptest.NewArchive(t, testenv.StartS3(t))
	pg, fetch := a.ArchivingPrimary(t)
	t.Setenv("AWS_ACCESS_KEY_ID", a.S3.AccessKey())
	t.Setenv("AWS_SECRET_ACCESS_KEY", a.S3.SecretKey())
	cfg := "--archive-config=" + a.ConfigPath
	backuptest.Exec(ctx, t, pg.DSN("postgres"), "CREATE TABLE t AS SELECT g FROM generate_series(1, 10000) g")

	list := func(t *testing.T) catalog.Listing {
		t.Helper()
		code, out, errOut := runTenure(t, "backup", "list", "-o", "json", cfg)
		if code != 0 {
			t.Fatalf("backup list: %d %s", code, errOut)
		}
		var l struct{ Complete []catalog.Meta }
		if err := json.Unmarshal([]byte(out), &l); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return catalog.Listing{Complete: l.Complete}
	}

	code, out, errOut := runTenure(t, "backup", "create", cfg, "--dsn", pg.DSN("postgres"))
	if code != 0 || !strings.Contains(out, "complete") {
		t.Fatalf("backup create: %d\n%s\n%s", code, out, errOut)
	}
	backuptest.SwitchAndWait(ctx, t, pg)
	l := list(t)
	if len(l.Complete) != 1 {
		t.Fatalf("listing %+v", l)
	}
	id := l.Complete[0].ID
	code, out, _ = runTenure(t, "backup", "list", cfg)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "complete") {
		t.Errorf("backup list table: %d\n%s", code, out)
	}

	scratch := testenv.OwnedDir(t)
	bad := [][]string{
		{"backup", "create", cfg},              // no --dsn
		{"backup", "list", cfg, "-o", "yaml"},  // bad output
		{"backup", "frobnicate", cfg},          // unknown subcommand
		{"backup", "delete", cfg, "yesterday"}, // not an ID
		{"backup", "prune", cfg, "--force"},    // no policy
		{"backup", "list", "--archive-config=/nonexistent.json"},
		{"restore", cfg, "--data-dir", filepath.Join(scratch, "x"), "--target-time", "noon"},
		{"restore", cfg, "--data-dir", filepath.Join(scratch, "x"), "--target-lsn", "0/1", "--target-name", "n"},
		{"restore", cfg}, // no --data-dir
	}
	for _, args := range bad {
		if code, _, errOut := runTenure(t, args...); code != exitUsage || !strings.Contains(errOut, "Error:") {
			t.Errorf("%v: exit %d (%s), want usage error", args, code, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(scratch, "x")); !os.IsNotExist(err) {
		t.Errorf("a refused restore created its data dir: %v", err)
	}
	if n := len(list(t).Complete); n != 1 {
		t.Errorf("refused commands changed the archive: %d backups", n)
	}

	t.Run("verify", func(t *testing.T) {
		code, out, errOut := runTenure(t, "backup", "verify", id, cfg, "--restore-command", fetch, "--target-timeline", "current")
		if code != 0 || !strings.Contains(out, "Backup "+id+" verified") || !strings.Contains(out, "pg_verifybackup") {
			t.Fatalf("verify: %d\n%s\n%s", code, out, errOut)
		}
		t.Log(out)
	})

	t.Run("restore", func(t *testing.T) {
		target := filepath.Join(scratch, "data")
		args := []string{"restore", cfg, "--data-dir", target, "--restore-command", fetch}
		if testenv.ServerCredential(t) != nil {
			args = append(args, "--owner", "postgres")
		}
		code, out, errOut := runTenure(t, args...)
		if code != 0 || !strings.Contains(out, "Recovered to latest") || !strings.Contains(out, "recovery replayed it") {
			t.Fatalf("restore: %d\n%s\n%s", code, out, errOut)
		}
		for _, gone := range []string{"recovery.signal", restore.IncompleteMarker, restore.EndFile} {
			if _, err := os.Stat(filepath.Join(target, gone)); !os.IsNotExist(err) {
				t.Errorf("recovered directory still holds %s (%v)", gone, err)
			}
		}
		code, _, errOut = runTenure(t, args...)
		if code != exitFail || !strings.Contains(errOut, "not empty") {
			t.Errorf("restore into the restored dir: exit %d %s, want refusal", code, errOut)
		}
	})

	t.Run("delete", func(t *testing.T) {
		if code, out, errOut := runTenure(t, "backup", "delete", id, cfg); code != exitFail || !strings.Contains(out, "NEWEST") {
			t.Errorf("delete without --force and no answer: %d %s %s", code, out, errOut)
		}
		if code, _, errOut := runTenure(t, "backup", "delete", id, cfg, "--force"); code != 0 {
			t.Fatalf("delete: %d %s", code, errOut)
		}
		if n := len(list(t).Complete); n != 0 {
			t.Errorf("%d backups left", n)
		}
	})
}
