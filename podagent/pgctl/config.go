package pgctl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
)

// DefaultBinDir is where Debian's postgresql-15 package puts the server.
const DefaultBinDir = "/usr/lib/postgresql/15/bin"

// Conditions a caller branches on.
var (
	// ErrInvalid: bad Config or options; nothing was run.
	ErrInvalid = errors.New("invalid argument")
	// ErrAlreadyRunning: a postmaster runs on the data directory (this
	// Instance's child, or the live owner of postmaster.pid).
	ErrAlreadyRunning = errors.New("postgres already running")
	// ErrNotRunning: no postmaster runs on the data directory.
	ErrNotRunning = errors.New("postgres not running")
	// ErrNotEmpty: the data directory holds files; initdb and
	// pg_basebackup need it empty or missing.
	ErrNotEmpty = errors.New("data directory not empty")
	// ErrNotInitialized: the data directory has no PG_VERSION.
	ErrNotInitialized = errors.New("data directory not initialized")
	// ErrRewindImpossible: pg_rewind cannot bring this data directory to
	// the source (no common timeline ancestor, WAL missing, another
	// system, neither checksums nor wal_log_hints). Re-cloning is the way
	// forward, if policy allows.
	ErrRewindImpossible = errors.New("rewind impossible")
	// ErrNotInRecovery: promotion asked of a server that is not a standby.
	ErrNotInRecovery = errors.New("server is not in recovery")
	// ErrSlotActive: a replication slot is in use and cannot be dropped.
	ErrSlotActive = errors.New("replication slot active")
)

// Config describes one instance. DataDir, SocketDir and Port are
// required.
type Config struct {
	BinDir    string // default DefaultBinDir
	DataDir   string // absolute
	SocketDir string // absolute; the unix socket is SocketDir/.s.PGSQL.<Port>
	Port      int
	// Superuser is the role initdb creates and pgctl connects as; default
	// "postgres".
	Superuser string
	// LogPath receives the server's stdout and stderr (appended); default
	// postgres.log next to DataDir, so a wiped or re-cloned data
	// directory keeps its history.
	LogPath string
	// Env is added to the fixed environment of every child (PATH, LC_ALL=C),
	// for example PGPASSFILE or PGSSLROOTCERT for pg_basebackup and
	// pg_rewind. Nothing is inherited from the agent's environment.
	Env []string
	// RewindRestoreTargetWAL passes --restore-target-wal to pg_rewind: WAL
	// the target lacks is fetched with the restore_command in its
	// postgresql.conf.
	RewindRestoreTargetWAL bool
	// Credential, when set, runs every child as that user (tests run as
	// root; postgres refuses root).
	Credential *syscall.Credential
	Log        hclog.Logger
}

// Instance controls the PostgreSQL instance of one data directory. Its
// methods are safe for concurrent use.
type Instance struct {
	cfg Config
	log hclog.Logger

	lifecycle sync.Mutex // serializes Start, InitDB, Basebackup, Rewind, Wipe
	mu        sync.Mutex // guards child
	child     *child
}

// New validates cfg, fills in defaults and returns an Instance. It runs
// nothing.
func New(cfg Config) (*Instance, error) {
	if cfg.BinDir == "" {
		cfg.BinDir = DefaultBinDir
	}
	if cfg.Superuser == "" {
		cfg.Superuser = "postgres"
	}
	if cfg.LogPath == "" {
		cfg.LogPath = filepath.Join(filepath.Dir(filepath.Clean(cfg.DataDir)), "postgres.log")
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.DataDir = filepath.Clean(cfg.DataDir)
	return &Instance{cfg: cfg, log: cfg.Log.With("data_dir", cfg.DataDir)}, nil
}

// maxSocketPath is sun_path's size on Linux minus its NUL.
const maxSocketPath = 107

func (c Config) validate() error {
	socket := filepath.Join(c.SocketDir, fmt.Sprintf(".s.PGSQL.%d", c.Port))
	switch {
	case !filepath.IsAbs(c.DataDir) || filepath.Clean(c.DataDir) == "/":
		return fmt.Errorf("pgctl: %w: data dir %q must be an absolute path below /", ErrInvalid, c.DataDir)
	case !filepath.IsAbs(c.SocketDir) || strings.ContainsAny(c.SocketDir, ",\" \t\n"):
		return fmt.Errorf("pgctl: %w: socket dir %q must be one absolute path without commas, quotes or blanks", ErrInvalid, c.SocketDir)
	case c.Port < 1 || c.Port > 65535:
		return fmt.Errorf("pgctl: %w: port %d out of range 1-65535", ErrInvalid, c.Port)
	case len(socket) > maxSocketPath:
		return fmt.Errorf("pgctl: %w: socket path %s is longer than %d bytes", ErrInvalid, socket, maxSocketPath)
	case !filepath.IsAbs(c.LogPath):
		return fmt.Errorf("pgctl: %w: log path %q must be absolute", ErrInvalid, c.LogPath)
	}
	for _, tool := range []string{"postgres", "initdb", "pg_controldata"} {
		if _, err := os.Stat(filepath.Join(c.BinDir, tool)); err != nil {
			return fmt.Errorf("pgctl: PostgreSQL binaries in %s: %w", c.BinDir, err)
		}
	}
	return nil
}

// DataDir returns the instance's data directory.
func (in *Instance) DataDir() string { return in.cfg.DataDir }

// command prepares a PostgreSQL binary from BinDir to run as the
// configured user, in its own process group, which a cancelled ctx kills
// as a whole (pg_basebackup forks a WAL streamer).
func (in *Instance) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(in.cfg.BinDir, name), args...)
	cmd.Dir = "/"
	cmd.Env = in.env()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: in.cfg.Credential}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// env is the children's whole environment: a developer's PGHOST, PGDATA
// or locale must not leak into them, and LC_ALL=C keeps tool output
// (pg_controldata, pg_rewind) in the English the parsers expect.
func (in *Instance) env() []string {
	return append([]string{"PATH=" + in.cfg.BinDir + ":/usr/bin:/bin", "LC_ALL=C", "LANG=C"}, in.cfg.Env...)
}

// runTool runs a short-lived tool and returns its combined output; the
// error carries the output's last lines.
func (in *Instance) runTool(ctx context.Context, name string, args ...string) (string, error) {
	return in.runToolIn(ctx, "/", name, args...)
}

// runToolIn is runTool with dir as the working directory.
func (in *Instance) runToolIn(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := in.command(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		return string(out), fmt.Errorf("%s: %w: %s", name, err, lastLines(string(out), tailLines))
	}
	return string(out), nil
}
