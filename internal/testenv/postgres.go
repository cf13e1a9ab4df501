package testenv

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
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tenure-pg/tenure/internal/postmaster"
)

// defaultPGBin is where Debian's postgresql-15 package puts the server.
const defaultPGBin = "/usr/lib/postgresql/15/bin"

const pgInstallHint = "install postgresql-15 (apt-get install postgresql-15) or set TENURE_PG_BIN"

// PostgresOptions configures an instance. The zero value is a fresh
// cluster on a new loopback address and a random port.
type PostgresOptions struct {
	// Addr is the listen address; default NewLoopbackAddr(), so each
	// instance looks like its own host.
	Addr string
	// Port defaults to a random free port.
	Port int
	// ExtraConf lines are appended to postgresql.conf after initdb.
	ExtraConf []string
	// NoDataChecksums runs initdb without --data-checksums. Checksums are on
	// by default because pg_rewind needs them (or wal_log_hints).
	NoDataChecksums bool
	// Empty creates the instance directory but runs neither initdb nor
	// postgres: the caller fills DataDir (say with pg_basebackup through
	// Command) and calls Start. ExtraConf is ignored.
	Empty bool
}

// Postgres is a PostgreSQL 15 server run as a child process. Its socket,
// log and data live in Dir. The superuser is "postgres"; local and
// 127.0.0.0/8 connections, including replication, are trusted.
type Postgres struct {
	Addr    string
	Port    int
	Dir     string // instance dir: unix socket, logs, DataDir
	DataDir string
	BinDir  string

	cred *syscall.Credential // the postgres user's, when running as root

	mu   sync.Mutex
	proc *process // nil while stopped
}

// StartPostgres initdbs and starts an instance for t and removes it when t
// ends. Missing PostgreSQL skips t outside CI (see Missing).
func StartPostgres(t testing.TB, opts PostgresOptions) *Postgres {
	t.Helper()
	p, err := NewPostgres(context.Background(), opts)
	check(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("postgres %s log ends:\n%s", p.Addr, logTail(p.logPath()))
		}
		p.Close()
	})
	return p
}

// NewPostgres is StartPostgres without a testing.TB, for benchmark and demo
// binaries. The caller must Close the instance.
func NewPostgres(ctx context.Context, opts PostgresOptions) (*Postgres, error) {
	p, err := newPostgresDir(opts)
	if err != nil {
		return nil, err
	}
	if opts.Empty {
		return p, nil
	}
	if err := p.initdb(ctx, opts); err != nil {
		p.Close()
		return nil, err
	}
	if err := p.startFirst(ctx, opts.Port == 0); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// newPostgresDir checks the binaries and the server user and makes the
// instance dir. The dir sits directly under os.TempDir(): t.TempDir's
// parents are 0700 and owned by the test's user, which the postgres user
// cannot traverse, and its long names would overflow the 107-byte unix
// socket path limit.
func newPostgresDir(opts PostgresOptions) (*Postgres, error) {
	p := &Postgres{Addr: opts.Addr, Port: opts.Port, BinDir: os.Getenv("TENURE_PG_BIN")}
	if p.BinDir == "" {
		p.BinDir = defaultPGBin
	}
	for _, name := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(p.BinDir, name)); err != nil {
			return nil, missingf(pgInstallHint, "PostgreSQL 15 not installed (no %s)", filepath.Join(p.BinDir, name))
		}
	}
	var err error
	if p.cred, err = serverCredential(); err != nil {
		return nil, err
	}
	if p.Addr == "" {
		p.Addr = NewLoopbackAddr()
	}
	if p.Dir, err = os.MkdirTemp("", "tenure-pg-"); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	p.DataDir = filepath.Join(p.Dir, "data")
	if err := p.chown(p.Dir); err != nil {
		_ = os.RemoveAll(p.Dir)
		return nil, err
	}
	return p, nil
}

// initdb creates the cluster and writes its access rules and ExtraConf.
func (p *Postgres) initdb(ctx context.Context, opts PostgresOptions) error {
	args := []string{"-D", p.DataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--locale=C", "--no-sync", "--no-instructions"}
	if !opts.NoDataChecksums {
		args = append(args, "--data-checksums")
	}
	if out, err := p.Command(ctx, "initdb", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("initdb %s: %w: %s", p.DataDir, err, out)
	}
	// initdb -A trust only trusts 127.0.0.1; members on 127.0.0.x connect
	// from their own addresses, and replicas need replication entries.
	hba := "local all all trust\nhost all all 127.0.0.0/8 trust\n" +
		"local replication all trust\nhost replication all 127.0.0.0/8 trust\n"
	if err := p.writeOwned(filepath.Join(p.DataDir, "pg_hba.conf"), hba); err != nil {
		return err
	}
	if len(opts.ExtraConf) == 0 {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(p.DataDir, "postgresql.conf"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("append postgresql.conf: %w", err)
	}
	_, err = f.WriteString("\n# testenv ExtraConf\n" + strings.Join(opts.ExtraConf, "\n") + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("append postgresql.conf: %w", err)
	}
	return nil
}

// startFirst starts the server, retrying on another random port when one
// was chosen for it and another process took it first.
func (p *Postgres) startFirst(ctx context.Context, randomPort bool) error {
	var err error
	for range startAttempts {
		if randomPort {
			if p.Port, err = freePort(p.Addr); err != nil {
				return err
			}
		}
		var proc *process
		proc, err = p.launch(ctx)
		if err == nil || !randomPort || proc == nil || !proc.addrInUse() {
			return err
		}
	}
	return err
}

// Start starts the server again after Stop or Kill (after Kill, with crash
// recovery) and returns once it accepts connections.
func (p *Postgres) Start(ctx context.Context) error {
	_, err := p.launch(ctx)
	return err
}

func (p *Postgres) launch(ctx context.Context) (*process, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc != nil {
		return nil, errors.New("start postgres: already running")
	}
	if err := p.waitOldServer(ctx); err != nil {
		return nil, err
	}
	// Address, port and socket dir are flags, not postgresql.conf lines,
	// because pg_rewind and pg_basebackup overwrite postgresql.conf with
	// another member's.
	proc, err := startProcess(procSpec{
		name: "postgres",
		path: filepath.Join(p.BinDir, "postgres"),
		args: []string{"-D", p.DataDir, "-c", "listen_addresses=" + p.Addr,
			"-c", fmt.Sprintf("port=%d", p.Port), "-c", "unix_socket_directories=" + p.Dir},
		dir:     p.Dir,
		env:     pgEnv(p.BinDir),
		logPath: p.logPath(),
		cred:    p.cred,
	})
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, proc, p.ping); err != nil {
		p.kill(proc)
		return proc, fmt.Errorf("start postgres on %s: %w", hostPort(p.Addr, p.Port), err)
	}
	p.proc = proc
	return proc, nil
}

// Stop shuts the server down with SIGINT ("fast": disconnect clients,
// checkpoint), killing it if that takes longer than a bound.
func (p *Postgres) Stop() { p.halt(func(proc *process) { proc.stop(syscall.SIGINT, stopGrace) }) }

// Kill sends SIGKILL to the postmaster and all its backends at once, like a
// container or node dying, and returns once none of them holds the
// server's shared memory; the next Start runs crash recovery.
func (p *Postgres) Kill() { p.halt(p.kill) }

// kill takes down proc with every process it forked: they each lead
// their own process group, so process.kill would miss them (package
// postmaster). A failed wait is reported by the next Start, which waits
// again.
func (p *Postgres) kill(proc *process) {
	ctx, cancel := context.WithTimeout(context.Background(), stopGrace)
	defer cancel()
	_ = postmaster.Kill(ctx, proc.cmd.Process.Pid, p.DataDir)
	<-proc.done
}

// waitOldServer waits, up to stopGrace, until no process of an earlier
// server holds the shared memory postmaster.pid names, the check that
// otherwise fails a start with "pre-existing shared memory block is still
// in use".
func (p *Postgres) waitOldServer(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, stopGrace)
	defer cancel()
	if err := postmaster.WaitFree(ctx, p.DataDir); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	return nil
}

func (p *Postgres) halt(how func(*process)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc != nil {
		how(p.proc)
		p.proc = nil
	}
}

// Close stops the server and removes Dir.
func (p *Postgres) Close() {
	p.Stop()
	_ = os.RemoveAll(p.Dir)
}

// DSN is a pgx/libpq URL for db as superuser postgres over TCP.
func (p *Postgres) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable&connect_timeout=5", hostPort(p.Addr, p.Port), db)
}

// Command prepares a PostgreSQL binary from BinDir (pg_ctl, pg_basebackup,
// pg_rewind, pg_controldata, ...) to run as the server's user in Dir.
func (p *Postgres) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(p.BinDir, name), args...)
	cmd.Dir, cmd.Env = p.Dir, pgEnv(p.BinDir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	return cmd
}

func (p *Postgres) logPath() string { return filepath.Join(p.Dir, "postgres.log") }

func (p *Postgres) ping(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, p.DSN("postgres"))
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// pgEnv is a fixed environment, so a developer's PGHOST, PGDATA or locale
// does not leak into the servers.
func pgEnv(bin string) []string {
	return []string{"PATH=" + bin + ":/usr/bin:/bin", "LC_ALL=C", "TZ=UTC"}
}
