package pgctl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// BasebackupOptions configure a clone.
type BasebackupOptions struct {
	// ConnString reaches the source as a role with REPLICATION (it may
	// hold a password; it is never logged).
	ConnString string
	// Slot, when set, is the source's physical slot to stream WAL through,
	// so the source keeps the WAL the clone needs. It must exist.
	Slot string
	// CheckpointFast asks the source for an immediate checkpoint instead of
	// a spread one, which can take checkpoint_timeout × 0.9.
	CheckpointFast bool
	// Label is the backup label; default "tenure clone".
	Label string
}

// Basebackup clones the source into the data directory, which must be
// missing or empty (ErrNotEmpty otherwise). WAL is streamed alongside (-X
// stream), so the copy is consistent on its own. It writes no standby
// settings (no -R): the caller renders them with pgconf, which it must do
// anyway because the source's postgresql.conf arrives with the copy. On
// failure it removes what it created, leaving the directory as it was.
func (in *Instance) Basebackup(ctx context.Context, o BasebackupOptions) error {
	in.lifecycle.Lock()
	defer in.lifecycle.Unlock()
	began := time.Now()
	if o.ConnString == "" || o.Slot != "" && !validSlotName(o.Slot) {
		return fmt.Errorf("basebackup into %s: %w: need a connection string and a valid slot name or none", in.cfg.DataDir, ErrInvalid)
	}
	before, err := in.requireEmpty()
	if err != nil {
		return fmt.Errorf("basebackup into %s: %w", in.cfg.DataDir, err)
	}
	if _, err := in.runTool(ctx, "pg_basebackup", basebackupArgs(in.cfg.DataDir, o)...); err != nil {
		if cerr := in.undoClone(before); cerr != nil {
			err = fmt.Errorf("%w; cleaning up: %w", err, cerr)
		}
		return fmt.Errorf("basebackup into %s: %w", in.cfg.DataDir, err)
	}
	in.log.Info("basebackup done", "slot", o.Slot, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

func basebackupArgs(dataDir string, o BasebackupOptions) []string {
	label := o.Label
	if label == "" {
		label = "tenure clone"
	}
	checkpoint := "spread"
	if o.CheckpointFast {
		checkpoint = "fast"
	}
	args := []string{"-D", dataDir, "-d", o.ConnString, "-X", "stream", "--no-password",
		"-c", checkpoint, "-l", label}
	if o.Slot != "" {
		args = append(args, "-S", o.Slot)
	}
	return args
}

// undoClone puts the data directory back the way it was before a failed
// clone: gone if it was missing, empty if it was empty. pg_basebackup does
// this itself unless it was killed, as on a cancelled ctx.
func (in *Instance) undoClone(before DirState) error {
	if before == DirMissing {
		return os.RemoveAll(in.cfg.DataDir)
	}
	return removeContents(context.Background(), in.cfg.DataDir)
}

// Rewind makes the stopped data directory a copy of the source's timeline
// history with pg_rewind, so it can follow the source as a standby. The
// target must have been shut down cleanly; if it was not (a crashed
// primary: "in production"), Rewind first runs crash recovery in
// single-user mode. "No rewind required" is success. Errors that mean
// pg_rewind cannot work are ErrRewindImpossible. Afterwards the data
// directory holds the source's configuration files: render with pgconf
// before starting. A pg_rewind that failed midway may leave a directory
// that can only be re-cloned.
func (in *Instance) Rewind(ctx context.Context, source string) error {
	in.lifecycle.Lock()
	defer in.lifecycle.Unlock()
	began := time.Now()
	if err := in.refuseRunning(); err != nil {
		return fmt.Errorf("rewind %s: %w", in.cfg.DataDir, err)
	}
	if err := in.requireInitialized(); err != nil {
		return fmt.Errorf("rewind %s: %w", in.cfg.DataDir, err)
	}
	if err := in.ensureCleanShutdown(ctx); err != nil {
		return fmt.Errorf("rewind %s: %w", in.cfg.DataDir, err)
	}
	args := []string{"--target-pgdata=" + in.cfg.DataDir, "--source-server=" + source, "--no-ensure-shutdown"}
	if in.cfg.RewindRestoreTargetWAL {
		args = append(args, "--restore-target-wal")
	}
	// In the data directory: pg_rewind runs the target's restore_command
	// in its own working directory, postgres in the data directory, and
	// restore_commands rely on that (tenure-agent wal-fetch finds its
	// config file and the agent's socket there).
	out, err := in.runToolIn(ctx, in.cfg.DataDir, "pg_rewind", args...)
	if err != nil {
		if rewindImpossible(out) {
			err = fmt.Errorf("%w: %w", ErrRewindImpossible, err)
		}
		return fmt.Errorf("rewind %s: %w", in.cfg.DataDir, err)
	}
	in.log.Info("rewind done", "no_rewind_required", strings.Contains(out, "no rewind required"),
		"took", time.Since(began).Round(time.Millisecond))
	return nil
}

// rewindImpossibleMessages are pg_rewind 15 failures that retrying will
// not cure.
var rewindImpossibleMessages = []string{
	"could not find common ancestor",
	"clusters are from different systems",
	"clusters are not compatible",
	"needs to use either data checksums or",
	"could not find previous WAL record",
	"could not read WAL record",
	"could not find WAL",
	"could not restore file", // --restore-target-wal: not in the archive
}

func rewindImpossible(out string) bool {
	for _, m := range rewindImpossibleMessages {
		if strings.Contains(out, m) {
			return true
		}
	}
	// WAL the target needs to find the divergence point is gone.
	return strings.Contains(out, "could not open file") && strings.Contains(out, "pg_wal/")
}

// ensureCleanShutdown runs crash recovery in single-user mode when
// pg_control says the cluster did not shut down cleanly, as pg_rewind
// requires. Signal files go first (single-user mode refuses standby mode;
// the caller renders them again), and archiving is forced to fail
// (archive_mode=on, archive_command=false) so WAL from a timeline that is
// about to be abandoned neither reaches the archive nor gets recycled.
func (in *Instance) ensureCleanShutdown(ctx context.Context) error {
	cd, err := in.Controldata(ctx)
	if err != nil || cd.CleanShutdown() {
		return err
	}
	began := time.Now()
	in.log.Info("running crash recovery in single-user mode before rewind", "state", cd.State)
	for _, signal := range []string{"standby.signal", "recovery.signal"} {
		if err := os.Remove(filepath.Join(in.cfg.DataDir, signal)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := in.singleUser(ctx); err != nil {
		return err
	}
	if cd, err = in.Controldata(ctx); err != nil {
		return err
	}
	if !cd.CleanShutdown() {
		return fmt.Errorf("single-user crash recovery left state %q; log %s ends:\n%s", cd.State, in.cfg.LogPath, in.logTail())
	}
	in.log.Info("crash recovery done", "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// singleUser runs `postgres --single` with stdin at /dev/null: it recovers,
// reads no commands, writes a shutdown checkpoint and exits.
func (in *Instance) singleUser(ctx context.Context) error {
	logf, err := os.OpenFile(in.cfg.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	defer logf.Close()
	cmd := in.command(ctx, "postgres", "--single", "-D", in.cfg.DataDir,
		"-c", "archive_mode=on", "-c", "archive_command=false", "template1")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("single-user crash recovery: %w; log %s ends:\n%s", err, in.cfg.LogPath, in.logTail())
	}
	return nil
}
