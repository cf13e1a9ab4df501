package main

import (
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/restore"
	"github.com/tenure-pg/tenure/walarchive/wal"
)

func archiveFile(t *testing.T, uid string) string {
	t.Helper()
	root := t.TempDir()
	cfg := wal.Config{Store: wal.StoreFS, FSRoot: root, Archive: layout.Archive{Cluster: "alpha", UID: uid, Major: 15}}.Default()
	path := filepath.Join(t.TempDir(), uid+".json")
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestArchiveFlags(t *testing.T) {
	own, src := archiveFile(t, "uid-own"), archiveFile(t, "uid-src")
	base := []string{"--cluster", "pg", "--name", "pg-0", "--data-dir", "/tmp/x", "--pod-ip", "127.0.0.1", "--api-insecure"}
	cases := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"own archive", []string{"--archive-config", own}, ""},
		{"clone at a time", []string{"--archive-config", own, "--bootstrap-from", src, "--clone-target-time", "2026-11-23T10:00:00Z"}, ""},
		{"standby cluster", []string{"--archive-config", own, "--bootstrap-from", src, "--standby-cluster"}, ""},
		{"missing archive file", []string{"--archive-config", "/nonexistent/a.json"}, "--archive-config"},
		{"standby without a source", []string{"--archive-config", own, "--standby-cluster"}, "needs a source archive (--bootstrap-from)"},
		{"two clone targets", []string{"--bootstrap-from", src, "--clone-target-time", "2026-11-23T10:00:00Z", "--clone-target-lsn", "0/3000000"}, "at most one"},
		{"bad clone time", []string{"--bootstrap-from", src, "--clone-target-time", "yesterday"}, "--clone-target-time"},
		{"standby with a target", []string{"--bootstrap-from", src, "--standby-cluster", "--clone-target-lsn", "0/3000000"}, "applies to clones only"},
		{"source is the own archive", []string{"--archive-config", own, "--bootstrap-from", own}, "own archive"},
		{"backup schedule", []string{"--archive-config", own, "--backup-schedule", "0 3 * * *", "--backup-keep-last", "7"}, ""},
		{"bad backup schedule", []string{"--archive-config", own, "--backup-schedule", "0 25 * * *"}, "0 25 * * *"},
		{"retention without a schedule", []string{"--archive-config", own, "--backup-keep-last", "3"}, "backup schedule"},
		{"backup schedule without an archive", []string{"--backup-schedule", "@daily"}, "--archive-config"},
		{"standby cluster streaming from the source", []string{"--archive-config", own, "--standby-cluster", "--standby-host", "10.0.0.5:5432"}, ""},
		{"standby host without a standby cluster", []string{"--archive-config", own, "--standby-host", "10.0.0.5:5432"}, "--standby-cluster"},
		{"standby host without a port", []string{"--standby-cluster", "--standby-host", "10.0.0.5"}, "want host:port"},
		{"negative wal percent", []string{"--archive-config", own, "--replica-from-archive-max-wal-percent", "-1"}, "percent"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseFlags(append(slices.Clone(base), c.args...), io.Discard)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one mentioning %q", err, c.wantErr)
			}
		})
	}
	o, err := parseFlags(append(slices.Clone(base), "--archive-config", own, "--bootstrap-from", src, "--clone-target-name", "before-upgrade"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a := o.cfg.Archive
	if a.Own == nil || a.Own.Archive.UID != "uid-own" || a.Source == nil || a.Source.Archive.UID != "uid-src" ||
		a.Target.Kind != restore.Name || a.Target.Name != "before-upgrade" || !filepath.IsAbs(a.Agent) {
		t.Fatalf("parsed archive config %+v", a)
	}
}

func TestArchiveEnvPassesOnlyAWSVariables(t *testing.T) {
	own := archiveFile(t, "uid-own")
	o, err := parseFlags([]string{"--cluster", "pg", "--name", "pg-0", "--data-dir", "/tmp/x", "--pod-ip", "127.0.0.1", "--api-insecure", "--archive-config", own}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"AWS_ACCESS_KEY_ID=a", "AWS_SECRET_ACCESS_KEY=b", "PGHOST=elsewhere", "TENURE_ARCHIVE_CONFIG=/x", "HOME=/root"}
	got := archiveEnv(o.cfg.Archive, env)
	if want := []string{"AWS_ACCESS_KEY_ID=a", "AWS_SECRET_ACCESS_KEY=b"}; !slices.Equal(got, want) {
		t.Fatalf("archiveEnv = %q, want %q", got, want)
	}
	o.cfg.Archive.Own = nil
	if got := archiveEnv(o.cfg.Archive, env); got != nil {
		t.Fatalf("archiveEnv without an archive = %q, want nothing", got)
	}
}
