package pgctl_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenure-pg/tenure/podagent/pgctl"
)

// fakeBin is a bin dir with empty stand-ins for the binaries New checks,
// for tests that must not run any of them.
func fakeBin(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, tool := range []string{"postgres", "initdb", "pg_controldata"} {
		if err := os.WriteFile(filepath.Join(dir, tool), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestNewValidates(t *testing.T) {
	bin := fakeBin(t)
	good := pgctl.Config{BinDir: bin, DataDir: "/pg/data", SocketDir: "/run/pg", Port: 5432}
	cases := []struct {
		name    string
		change  func(*pgctl.Config)
		wantErr string
	}{
		{"good", func(*pgctl.Config) {}, ""},
		{"relative data dir", func(c *pgctl.Config) { c.DataDir = "data" }, "data dir"},
		{"root data dir", func(c *pgctl.Config) { c.DataDir = "/" }, "data dir"},
		{"relative socket dir", func(c *pgctl.Config) { c.SocketDir = "run" }, "socket dir"},
		{"socket dir list", func(c *pgctl.Config) { c.SocketDir = "/a,/b" }, "socket dir"},
		{"port zero", func(c *pgctl.Config) { c.Port = 0 }, "port 0"},
		{"socket path too long", func(c *pgctl.Config) { c.SocketDir = "/" + strings.Repeat("s", 100) }, "longer than 107"},
		{"relative log path", func(c *pgctl.Config) { c.LogPath = "pg.log" }, "log path"},
		{"no binaries", func(c *pgctl.Config) { c.BinDir = t.TempDir() }, "PostgreSQL binaries"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := good
			c.change(&cfg)
			_, err := pgctl.New(cfg)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("New: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("New: %v, want error containing %q", err, c.wantErr)
			case c.wantErr != "" && c.name != "no binaries" && !errors.Is(err, pgctl.ErrInvalid):
				t.Fatalf("New: %v, want ErrInvalid", err)
			}
		})
	}
}

func fakeInstance(t *testing.T, dataDir string) *pgctl.Instance {
	t.Helper()
	in, err := pgctl.New(pgctl.Config{BinDir: fakeBin(t), DataDir: dataDir, SocketDir: "/tmp", Port: 5432})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestDataDirState(t *testing.T) {
	cases := []struct {
		name  string
		setup func(dir string) error
		want  pgctl.DirState
	}{
		{"missing", func(dir string) error { return nil }, pgctl.DirMissing},
		{"empty", func(dir string) error { return os.Mkdir(dir, 0o700) }, pgctl.DirEmpty},
		{"initialized", func(dir string) error {
			return errors.Join(os.Mkdir(dir, 0o700), os.WriteFile(filepath.Join(dir, "PG_VERSION"), []byte("15\n"), 0o600))
		}, pgctl.DirInitialized},
		{"lost+found", func(dir string) error { return os.MkdirAll(filepath.Join(dir, "lost+found"), 0o700) }, pgctl.DirOther},
		{"stray file", func(dir string) error {
			return errors.Join(os.Mkdir(dir, 0o700), os.WriteFile(filepath.Join(dir, "notes"), nil, 0o600))
		}, pgctl.DirOther},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if err := c.setup(dir); err != nil {
				t.Fatal(err)
			}
			got, err := fakeInstance(t, dir).DataDirState()
			if err != nil || got != c.want {
				t.Fatalf("DataDirState = %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

// Refusals happen before any binary runs (the fake ones would fail), and
// change nothing.
func TestRefusesNonEmptyDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "precious"), []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := fakeInstance(t, dir)
	if err := in.InitDB(t.Context(), pgctl.InitOptions{SuperuserPassword: "x"}); !errors.Is(err, pgctl.ErrNotEmpty) {
		t.Errorf("InitDB into a non-empty dir: %v, want ErrNotEmpty", err)
	}
	err := in.Basebackup(t.Context(), pgctl.BasebackupOptions{ConnString: "host=nowhere"})
	if !errors.Is(err, pgctl.ErrNotEmpty) {
		t.Errorf("Basebackup into a non-empty dir: %v, want ErrNotEmpty", err)
	}
	if err := in.Start(t.Context()); !errors.Is(err, pgctl.ErrNotInitialized) {
		t.Errorf("Start without PG_VERSION: %v, want ErrNotInitialized", err)
	}
	if err := in.Rewind(t.Context(), "host=nowhere"); !errors.Is(err, pgctl.ErrNotInitialized) {
		t.Errorf("Rewind without PG_VERSION: %v, want ErrNotInitialized", err)
	}
	entries, _ := os.ReadDir(dir)
	parent, _ := os.ReadDir(filepath.Dir(dir))
	if b, _ := os.ReadFile(filepath.Join(dir, "precious")); len(entries) != 1 || len(parent) != 1 || string(b) != "keep me" {
		t.Errorf("refusals changed the directory: %d entries, %d beside it, precious=%q", len(entries), len(parent), b)
	}
}
