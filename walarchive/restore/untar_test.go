package restore

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/walarchive/catalog"
)

type entry struct {
	name, body, link string
	typ              byte
}

func tarOf(t *testing.T, entries ...entry) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body)), Linkname: e.link}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := w.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			w.Write([]byte(e.body))
		}
	}
	w.Close()
	return &buf
}

func TestExtract(t *testing.T) {
	meta := catalog.Meta{Archives: []catalog.Archive{{Name: "base.tar"}, {Name: "16384.tar", Tablespace: 16384, Location: "/old/ts"}}}
	dirs := map[string]string{"base.tar": "", "16384.tar": "/new/ts"}
	tests := []struct {
		name    string
		entries []entry
		err     error
		check   func(t *testing.T, dir string)
	}{
		{
			name: "files and directories with tight permissions",
			entries: []entry{
				{name: "base", typ: tar.TypeDir}, {name: "base/1", typ: tar.TypeDir},
				{name: "base/1/1259", body: "heap", typ: tar.TypeReg}, {name: "PG_VERSION", body: "15\n", typ: tar.TypeReg},
			},
			check: func(t *testing.T, dir string) {
				fi, err := os.Stat(filepath.Join(dir, "base/1/1259"))
				if err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("file: %v %v", fi, err)
				}
				if fi, err := os.Stat(filepath.Join(dir, "base/1")); err != nil || fi.Mode().Perm() != 0o700 {
					t.Errorf("dir: %v %v", fi, err)
				}
			},
		},
		{
			name:    "tablespace link points at the mapped directory",
			entries: []entry{{name: "pg_tblspc", typ: tar.TypeDir}, {name: "pg_tblspc/16384", typ: tar.TypeSymlink, link: "/old/ts"}},
			check: func(t *testing.T, dir string) {
				if got, err := os.Readlink(filepath.Join(dir, "pg_tblspc/16384")); got != "/new/ts" {
					t.Errorf("link %q %v", got, err)
				}
			},
		},
		{name: "parent escape", entries: []entry{{name: "../evil", body: "x", typ: tar.TypeReg}}, err: ErrUnsafePath},
		{name: "absolute path", entries: []entry{{name: "/etc/evil", body: "x", typ: tar.TypeReg}}, err: ErrUnsafePath},
		{name: "escape after clean", entries: []entry{{name: "base/../../evil", body: "x", typ: tar.TypeReg}}, err: ErrUnsafePath},
		{name: "other symlink", entries: []entry{{name: "pg_wal", typ: tar.TypeSymlink, link: "/etc"}}, err: ErrUnsafePath},
		{
			name: "write through a tablespace link",
			entries: []entry{{name: "pg_tblspc", typ: tar.TypeDir}, {name: "pg_tblspc/16384", typ: tar.TypeSymlink, link: "/old/ts"},
				{name: "pg_tblspc/16384/x", body: "x", typ: tar.TypeReg}},
			err: ErrUnsafePath,
		},
		{name: "hard link", entries: []entry{{name: "a", typ: tar.TypeLink, link: "/etc/passwd"}}, err: ErrUnsafePath},
		{name: "duplicate file is not overwritten", entries: []entry{{name: "f", body: "1", typ: tar.TypeReg}, {name: "f", body: "2", typ: tar.TypeReg}}, err: os.ErrExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			d := map[string]string{"base.tar": dir, "16384.tar": dirs["16384.tar"]}
			ex := &extractor{dir: dir, link: tablespaceLink(meta, d)}
			err := ex.extract(tarOf(t, tt.entries...))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("extract: %v, want %v", err, tt.err)
				}
				if _, serr := os.Lstat(filepath.Join(filepath.Dir(dir), "evil")); serr == nil {
					t.Error("file written outside the directory")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, dir)
		})
	}
}

func TestRecoverySettings(t *testing.T) {
	p := Plan{Backup: catalog.Meta{ID: "20261123T100000Z"}}
	now := time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		target Target
		want   []string
		absent []string
	}{
		{"latest", Target{}, []string{"recovery_target_timeline = 'latest'"}, []string{"recovery_target_action", "recovery_target_time ="}},
		{"time exclusive pause", Target{Kind: Time, Time: time.Date(2026, 11, 23, 10, 15, 0, 500000000, time.UTC), Exclusive: true, Action: Pause},
			[]string{"recovery_target_time = '2026-11-23 10:15:00.5+00'", "recovery_target_inclusive = 'off'", "recovery_target_action = 'pause'"}, nil},
		{"lsn current timeline", Target{Kind: LSN, LSN: 0x3000060, Timeline: TimelineCurrent},
			[]string{"recovery_target_lsn = '0/3000060'", "recovery_target_timeline = 'current'", "recovery_target_action = 'promote'"}, nil},
		{"name with a quote", Target{Kind: Name, Name: "it's"}, []string{"recovery_target_name = 'it''s'"}, nil},
		{"xid on timeline 3", Target{Kind: XID, XID: 1234, Timeline: "3"}, []string{"recovery_target_xid = '1234'", "recovery_target_timeline = '3'"}, nil},
		{"immediate", Target{Kind: Immediate}, []string{"recovery_target = 'immediate'"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.Target = tt.target
			got := recoverySettings(p, "tenure-agent wal-fetch %f %p", now)
			for _, w := range append(tt.want, "restore_command = 'tenure-agent wal-fetch %f %p'") {
				if !strings.Contains(got, w+"\n") {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(got, a) {
					t.Errorf("unexpected %q in:\n%s", a, got)
				}
			}
		})
	}
}
