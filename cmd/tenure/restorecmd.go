package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tenure-pg/tenure/walarchive/restore"
)

type restoreFlags struct {
	archive        archiveFlags
	target         targetFlags
	dataDir        string
	backupID       string
	restoreCommand string
	owner          string
	parallel       int
	dryRun         bool
	recover        bool
	pgBin          string
	timeout        time.Duration
}

func setupRestore(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
	var f restoreFlags
	f.archive.register(fs)
	f.target.register(fs)
	fs.StringVar(&f.dataDir, "data-dir", "", "directory to restore into; must be missing or empty")
	fs.StringVar(&f.backupID, "backup", "", "restore this backup instead of the newest that reaches the target")
	fs.StringVar(&f.restoreCommand, "restore-command", "", "restore_command for recovery (default: tenure-agent wal-fetch --config <archive-config> %f %p)")
	fs.StringVar(&f.owner, "owner", "", "user to own the restored files (default: the current user)")
	fs.IntVar(&f.parallel, "parallel", 4, "concurrent downloads per archive")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the plan and write nothing")
	fs.BoolVar(&f.recover, "recover", true, "start postgres on the restored directory (no TCP, archive_mode off), wait until recovery reached the target, check it against the archive and stop it; false: only prepare the directory")
	fs.StringVar(&f.pgBin, "pg-bin", "", "PostgreSQL binaries for --recover (default $TENURE_PG_BIN or /usr/lib/postgresql/<major>/bin)")
	fs.DurationVar(&f.timeout, "timeout", 24*time.Hour, "how long recovery may take")
	return func(ctx context.Context, args []string) error {
		if err := noMoreArgs(args); err != nil {
			return err
		}
		if f.dataDir == "" {
			return usagef("restore: --data-dir is required")
		}
		if f.parallel < 1 || f.parallel > 64 {
			return usagef("restore: --parallel %d: want 1 to 64", f.parallel)
		}
		tg, err := f.target.target(restore.Latest)
		if err != nil {
			return err
		}
		if f.recover && tg.Action == restore.Pause {
			return usagef("restore: --target-action pause leaves recovery paused; use --recover=false and start postgres yourself")
		}
		name := f.owner
		if name == "" && f.recover && os.Geteuid() == 0 {
			name = "postgres" // postgres refuses to run as root
		}
		owner, err := lookupOwner(name)
		if err != nil {
			return usagef("restore: %v", err)
		}
		a, err := c.openArchive(ctx, f.archive)
		if err != nil {
			return err
		}
		plan, err := c.planRestore(ctx, a, tg, f.backupID)
		if err != nil {
			return err
		}
		if f.dryRun {
			return nil
		}
		cmd := f.restoreCommand
		if cmd == "" {
			if cmd, err = defaultRestoreCommand(a.cfgPath); err != nil {
				return err
			}
		}
		dir, err := filepath.Abs(f.dataDir)
		if err != nil {
			return err
		}
		took, err := c.executeRestore(ctx, a, plan, restore.Options{DataDir: dir, RestoreCommand: cmd, Owner: owner, Parallel: f.parallel})
		if err != nil {
			return fmt.Errorf("%w (%s is marked incomplete: %s)", err, dir, restore.IncompleteMarker)
		}
		if !f.recover {
			fmt.Fprintf(c.out, "Restored backup %s into %s in %s (%.0f MiB/s). Start postgres on it to recover to %s.\n",
				plan.Backup.ID, dir, took.Round(time.Millisecond), mibPerSec(plan.Backup.RawSize, took), plan.Target)
			return nil
		}
		fmt.Fprintf(c.out, "Restored backup %s into %s in %s (%.0f MiB/s); recovering to %s\n",
			plan.Backup.ID, dir, took.Round(time.Millisecond), mibPerSec(plan.Backup.RawSize, took), plan.Target)
		return c.recoverRestored(ctx, plan, dir, c.pgBin(f.pgBin, plan), owner, f.timeout)
	}
}

// planRestore observes the archive, decides and prints the plan.
func (c *cli) planRestore(ctx context.Context, a *archive, tg restore.Target, backupID string) (restore.Plan, error) {
	obs, err := restore.Observe(ctx, a.store, a.layout, a.codec.Key)
	if err != nil {
		return restore.Plan{}, err
	}
	obs.Target, obs.BackupID = tg, backupID
	plan, err := restore.Decide(obs)
	if err != nil {
		return restore.Plan{}, err
	}
	fmt.Fprintf(c.out, "Plan: %s\n", plan.Reason)
	return plan, nil
}

// executeRestore runs the plan with the archive's store, key and a
// progress line.
func (c *cli) executeRestore(ctx context.Context, a *archive, plan restore.Plan, opts restore.Options) (time.Duration, error) {
	opts.Store, opts.Archive, opts.Key, opts.Log = a.store, a.layout, a.codec.Key, c.logger()
	p := c.newProgress("restore")
	if p != nil {
		opts.Progress = p.update
	}
	start := time.Now()
	err := restore.Execute(ctx, plan, opts)
	p.end()
	return time.Since(start), err
}

func mibPerSec(n int64, d time.Duration) float64 {
	return float64(n) / (1 << 20) / max(d.Seconds(), 0.001)
}

// defaultRestoreCommand is tenure-agent wal-fetch with this archive
// config, by absolute paths: postgres runs it from the data directory.
func defaultRestoreCommand(cfgPath string) (string, error) {
	agent, err := exec.LookPath("tenure-agent")
	if err != nil {
		self, serr := os.Executable()
		if serr != nil {
			return "", fmt.Errorf("find tenure-agent for restore_command: %w", err)
		}
		agent = filepath.Join(filepath.Dir(self), "tenure-agent")
		if _, serr := os.Stat(agent); serr != nil {
			return "", fmt.Errorf("find tenure-agent for restore_command (not in PATH nor next to %s); pass --restore-command", self)
		}
	}
	agent, _ = filepath.Abs(agent)
	cfg, err := filepath.Abs(cfgPath)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s wal-fetch --config %s %%f %%p", agent, cfg), nil
}

// lookupOwner resolves a user name ("" = nobody in particular).
func lookupOwner(name string) (*restore.Owner, error) {
	if name == "" {
		return nil, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, err
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, err
	}
	return &restore.Owner{UID: uid, GID: gid}, nil
}
