package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/wal"
)

// TestWALCommands runs wal-push and wal-fetch in-process against a
// filesystem archive: exit codes, the config lookup in the working
// directory, and one-line messages.
func TestWALCommands(t *testing.T) {
	pgdata, archive := t.TempDir(), t.TempDir()
	cfg := wal.Config{Store: wal.StoreFS, FSRoot: archive,
		Archive: layout.Archive{Cluster: "c", UID: "u", Major: 15}, SegmentSize: 1 << 20}.Default()
	if err := cfg.Save(filepath.Join(pgdata, archiveConfigFile)); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(pgdata, "pg_wal"), 0o700); err != nil {
		t.Fatal(err)
	}
	segment := bytes.Repeat([]byte("wal"), 1<<20/3+1)[:1<<20]
	name := "000000010000000000000002"
	if err := os.WriteFile(filepath.Join(pgdata, "pg_wal", name), segment, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(pgdata) // postgres runs the commands in the data directory
	t.Setenv("TENURE_ARCHIVE_CONFIG", "")

	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"push", []string{"wal-push", "pg_wal/" + name}, exitOK, ""},
		{"push again", []string{"wal-push", "pg_wal/" + name}, exitOK, ""},
		{"push missing file", []string{"wal-push", "pg_wal/000000010000000000000003"}, exitFailed, "no such file"},
		{"push no args", []string{"wal-push"}, exitUsage, "want 1 argument"},
		{"fetch", []string{"wal-fetch", name, "pg_wal/RECOVERYXLOG"}, exitOK, ""},
		{"fetch not archived", []string{"wal-fetch", "00000002.history", "pg_wal/RECOVERYHISTORY"}, exitFailed, "not in the archive"},
		{"fetch bad name", []string{"wal-fetch", "../x", "pg_wal/x"}, exitAbort, "not a WAL file name"},
		{"missing config", []string{"wal-fetch", "--config", "nope.json", name, "x"}, exitAbort, "nope.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := run(tc.args, &stderr); code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.code, stderr.String())
			}
			out := stderr.String()
			if !strings.Contains(out, tc.stderr) || strings.Count(out, "\n") > 1 {
				t.Errorf("stderr %q: want one line containing %q", out, tc.stderr)
			}
		})
	}
	got, err := os.ReadFile(filepath.Join(pgdata, "pg_wal", "RECOVERYXLOG"))
	if err != nil || !bytes.Equal(got, segment) {
		t.Errorf("fetched file: %v, equal=%v", err, bytes.Equal(got, segment))
	}
}
