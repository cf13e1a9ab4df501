package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tenure-pg/tenure/podagent/pgctl"
	"github.com/tenure-pg/tenure/walarchive/restore"
)

// verifyFlags: `tenure backup verify [ID]` restores into a scratch
// directory, checks the files against the backup manifest, starts
// postgres on them and waits until recovery reaches the target.
type verifyFlags struct {
	scratch  string
	pgBin    string
	restCmd  string
	timeout  time.Duration
	keep     bool
	parallel int
}

func (v *verifyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&v.scratch, "scratch", "", "verify: directory to restore into (default: a new temporary directory)")
	fs.StringVar(&v.pgBin, "pg-bin", "", "verify: PostgreSQL binaries (default $TENURE_PG_BIN or /usr/lib/postgresql/<major>/bin)")
	fs.StringVar(&v.restCmd, "restore-command", "", "verify: restore_command (default: tenure-agent wal-fetch --config <archive-config> %f %p)")
	fs.DurationVar(&v.timeout, "timeout", 30*time.Minute, "verify: how long recovery may take")
	fs.BoolVar(&v.keep, "keep", false, "verify: keep the scratch directory")
	fs.IntVar(&v.parallel, "parallel", 4, "verify: concurrent downloads per archive")
}

// errVerify: the backup restored but did not check out.
var errVerify = errors.New("verification failed")

func (c *cli) backupVerify(ctx context.Context, f *backupFlags, args []string) error {
	if len(args) > 1 {
		return usagef("backup verify: want at most one backup ID")
	}
	tg, err := f.target.target(restore.Immediate)
	if err != nil {
		return err
	}
	if tg.Action == restore.Pause {
		return usagef("backup verify: --target-action pause: verify needs recovery to end (promote)")
	}
	a, err := c.openArchive(ctx, f.archive)
	if err != nil {
		return err
	}
	var id string
	if len(args) == 1 {
		id = args[0]
	}
	plan, err := c.planRestore(ctx, a, tg, id)
	if err != nil {
		return err
	}
	v := f.verify
	srv, err := newScratchServer(v.scratch, c.pgBin(v.pgBin, plan))
	if err != nil {
		return err
	}
	if !v.keep {
		defer srv.remove()
	}
	cmd := v.restCmd
	if cmd == "" {
		if cmd, err = defaultRestoreCommand(a.cfgPath); err != nil {
			return err
		}
	}
	took, err := c.executeRestore(ctx, a, plan, restore.Options{DataDir: srv.dataDir, RestoreCommand: cmd, Owner: srv.owner, Parallel: v.parallel})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "restored %s in %s (%.0f MiB/s)\n", humanBytes(plan.Backup.RawSize), took.Round(time.Millisecond), mibPerSec(plan.Backup.RawSize, took))
	if plan.Backup.Manifest != nil {
		// The recovery settings were added after the manifest was made.
		if out, err := srv.run(ctx, "pg_verifybackup", "-n", "-i", "postgresql.auto.conf", "-i", "recovery.signal", "-i", restore.EndFile, srv.dataDir); err != nil {
			return fmt.Errorf("%w: pg_verifybackup: %v: %s", errVerify, err, out)
		}
		fmt.Fprintln(c.out, "pg_verifybackup: files match the backup manifest")
	}
	start := time.Now()
	cd, err := srv.recover(ctx, v.timeout)
	if err != nil {
		return fmt.Errorf("%w: %v", errVerify, err)
	}
	if _, _, _, err := srv.checkEnd(ctx); err != nil {
		return fmt.Errorf("%w: %v", errVerify, err)
	}
	sums := "checksums off"
	if cd.DataChecksums {
		sums = "checksums on"
	}
	fmt.Fprintf(c.out, "recovery to %s ended in %s: in production on timeline %d (latest checkpoint %s), %s\n",
		plan.Target, time.Since(start).Round(time.Millisecond), cd.Timeline, cd.CheckpointLSN, sums)
	if cd.DataChecksums {
		if out, err := srv.run(ctx, "pg_checksums", "--check", "-D", srv.dataDir); err != nil {
			return fmt.Errorf("%w: pg_checksums: %v: %s", errVerify, err, out)
		}
		fmt.Fprintln(c.out, "pg_checksums: all data page checksums verified")
	}
	fmt.Fprintf(c.out, "Backup %s verified\n", plan.Backup.ID)
	return nil
}

// pgBin is where PostgreSQL's binaries are: flag, $TENURE_PG_BIN, or
// Debian's directory for the backup's major version.
func (c *cli) pgBin(flag string, plan restore.Plan) string {
	if flag != "" {
		return flag
	}
	if bin := c.getenv("TENURE_PG_BIN"); bin != "" {
		return bin
	}
	return fmt.Sprintf("/usr/lib/postgresql/%d/bin", plan.Backup.PGVersion/10000)
}

// scratchServer is a restored data directory and the postgres run on it:
// unix socket only, in the scratch directory, as the postgres user when
// running as root (postgres refuses root).
type scratchServer struct {
	dir, dataDir, bin string
	owner             *restore.Owner
	created           bool
}

func newScratchServer(dir, bin string) (*scratchServer, error) {
	if _, err := os.Stat(filepath.Join(bin, "postgres")); err != nil {
		return nil, fmt.Errorf("verify: no postgres in %s (pass --pg-bin): %w", bin, err)
	}
	s := &scratchServer{dir: dir, bin: bin}
	if dir == "" {
		d, err := os.MkdirTemp("", "tenure-verify-")
		if err != nil {
			return nil, err
		}
		s.dir, s.created = d, true
	}
	s.dataDir = filepath.Join(s.dir, "data")
	if os.Geteuid() == 0 {
		o, err := lookupOwner("postgres")
		if err != nil {
			return nil, fmt.Errorf("verify as root needs a postgres user to run the server as: %w", err)
		}
		s.owner = o
		if err := os.Chown(s.dir, o.UID, o.GID); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *scratchServer) remove() {
	if s.created {
		_ = os.RemoveAll(s.dir)
	} else {
		_ = os.RemoveAll(s.dataDir)
	}
}

func (s *scratchServer) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	if s.owner != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(s.owner.UID), Gid: uint32(s.owner.GID), Groups: []uint32{}}}
	}
	return cmd
}

func (s *scratchServer) run(ctx context.Context, name string, args ...string) (string, error) {
	out, err := s.command(ctx, name, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// recover starts postgres and waits until pg_control says the cluster is
// in production (recovery reached its target and promoted). PostgreSQL
// itself fails recovery when WAL runs out before the target. It stops the
// server cleanly before returning.
func (s *scratchServer) recover(ctx context.Context, timeout time.Duration) (pgctl.Controldata, error) {
	logPath := s.logPath()
	log, err := os.Create(logPath)
	if err != nil {
		return pgctl.Controldata{}, err
	}
	defer log.Close()
	if s.owner != nil {
		_ = log.Chown(s.owner.UID, s.owner.GID)
	}
	// No TCP listener, no archiving into the source's archive, and the
	// backup's own hba rules replaced: this copy is for checking only.
	hba := filepath.Join(s.dir, "verify_hba.conf")
	if err := os.WriteFile(hba, []byte("local all all trust\n"), 0o644); err != nil {
		return pgctl.Controldata{}, err
	}
	cmd := s.command(context.WithoutCancel(ctx), "postgres", "-D", s.dataDir, "-c", "listen_addresses=", "-c", "port=5432",
		"-c", "unix_socket_directories="+s.dir, "-c", "archive_mode=off", "-c", "hba_file="+hba)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return pgctl.Controldata{}, fmt.Errorf("start postgres: %w", err)
	}
	// exited closes when postgres has exited, with waitErr set: a
	// channel every waiter can read, unlike a value only one receives
	// (postgres dying during recovery used to leave recover waiting for
	// a second value that never came).
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	cd, err := s.waitProduction(ctx, exited, func() error { return waitErr }, timeout)
	if err != nil {
		_ = cmd.Process.Kill()
		<-exited
		return pgctl.Controldata{}, fmt.Errorf("%w; postgres log ends:\n%s", err, tail(logPath, 15))
	}
	_ = cmd.Process.Signal(syscall.SIGINT) // fast shutdown
	select {
	case <-exited:
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		<-exited
	}
	return cd, nil
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// waitProduction waits until recovery ended. A restored backup's
// pg_control already says "in production" (it was copied from a running
// primary) before postgres even started: the end of recovery is that
// state once postgres removed recovery.signal, which it does as it
// leaves recovery.
func (s *scratchServer) waitProduction(ctx context.Context, exited <-chan struct{}, waitErr func() error, timeout time.Duration) (pgctl.Controldata, error) {
	deadline := time.After(timeout)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-exited:
			return pgctl.Controldata{}, fmt.Errorf("postgres exited during recovery (%v)", waitErr())
		case <-deadline:
			return pgctl.Controldata{}, fmt.Errorf("recovery did not finish within %v", timeout)
		case <-ctx.Done():
			return pgctl.Controldata{}, ctx.Err()
		case <-tick.C:
		}
		out, err := s.run(ctx, "pg_controldata", s.dataDir)
		if err != nil {
			continue
		}
		cd, err := pgctl.ParseControldata(out)
		if err == nil && cd.State == pgctl.StateInProduction && !exists(filepath.Join(s.dataDir, "recovery.signal")) {
			return cd, nil
		}
	}
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
