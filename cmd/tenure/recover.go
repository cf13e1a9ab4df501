package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tenure-pg/tenure/podagent/pgctl"
	"github.com/tenure-pg/tenure/walarchive/restore"
)

// recoverRestored starts postgres on the restored directory dir, waits
// until recovery ended (postgres promoted at the target), stops it, and
// checks where recovery ended against the end of the archive that the
// plan recorded (restore.EndFile): a restore to latest that stopped short
// (a segment missing or not valid WAL) fails, as does a recovery that
// postgres aborted (tenure-agent wal-fetch exits 255 when the archive
// cannot be read). A failed recovery leaves dir marked incomplete
// (restore.IncompleteMarker), never a directory that looks usable.
func (c *cli) recoverRestored(ctx context.Context, plan restore.Plan, dir, bin string, owner *restore.Owner, timeout time.Duration) error {
	srv, err := newRecoveryServer(dir, bin, owner)
	if err != nil {
		return err
	}
	defer srv.remove()
	fail := func(err error) error {
		if merr := restore.MarkIncomplete(dir, err.Error()); merr != nil {
			return fmt.Errorf("restore: %w (and %w)", err, merr)
		}
		return fmt.Errorf("restore: %w\n%s is marked incomplete (%s): do not start postgres on it", err, dir, restore.IncompleteMarker)
	}
	start := time.Now()
	if _, err := srv.recover(ctx, timeout); err != nil {
		return fail(fmt.Errorf("recovery to %s failed: %w", plan.Target, err))
	}
	took := time.Since(start)
	reached, end, hasEnd, err := srv.checkEnd(ctx)
	if err != nil {
		return fail(err)
	}
	// Recovery is over: its restore_command (the source archive) and
	// target must not outlive it.
	if err := restore.ClearRecoverySettings(dir); err != nil {
		return fail(err)
	}
	fmt.Fprintf(c.out, "Recovered to %s in %s: reached %s\n", plan.Target, took.Round(time.Millisecond), reached)
	if hasEnd {
		fmt.Fprintf(c.out, "The archive's WAL on timeline %d ends in segment %s; recovery replayed it.\n", end.Timeline, end.Segment)
	}
	fmt.Fprintf(c.out, "%s is ready: start postgres on it.\n", dir)
	return nil
}

// checkEnd reads where the recovery of the stopped server ended and
// checks it against the End the restore recorded, if any (a restore to
// latest): ErrStoppedShort when it ended before the archive's end.
func (s *scratchServer) checkEnd(ctx context.Context) (reached restore.Reached, end restore.End, hasEnd bool, err error) {
	// Read after the clean shutdown: its checkpoint names the new timeline.
	out, err := s.run(ctx, "pg_controldata", s.dataDir)
	if err != nil {
		return reached, end, false, fmt.Errorf("pg_controldata: %w: %s", err, out)
	}
	cd, err := pgctl.ParseControldata(out)
	if err != nil {
		return reached, end, false, err
	}
	if reached, err = restore.ReadReached(s.dataDir, cd.Timeline); err != nil {
		return reached, end, false, err
	}
	reached.Time = lastTransaction(s.logPath())
	if end, hasEnd, err = restore.ReadEnd(s.dataDir); err != nil || !hasEnd {
		return reached, end, hasEnd, err
	}
	if err := end.Check(reached); err != nil {
		return reached, end, hasEnd, fmt.Errorf("%w; reached %s", err, reached)
	}
	return reached, end, hasEnd, nil
}

// newRecoveryServer runs postgres on dataDir with its socket, log and hba
// file in a new temporary directory, as owner (the postgres user when
// running as root).
func newRecoveryServer(dataDir, bin string, owner *restore.Owner) (*scratchServer, error) {
	s, err := newScratchServer("", bin)
	if err != nil {
		return nil, err
	}
	s.dataDir = dataDir
	if owner != nil {
		s.owner = owner
		if err := os.Chown(s.dir, owner.UID, owner.GID); err != nil {
			s.remove()
			return nil, err
		}
	}
	return s, nil
}

func (s *scratchServer) logPath() string { return filepath.Join(s.dir, "postgres.log") }

// lastTransaction is the time PostgreSQL logs at the end of recovery
// ("last completed transaction was at log time ..."); zero if absent.
func lastTransaction(logPath string) time.Time {
	f, err := os.Open(logPath)
	if err != nil {
		return time.Time{}
	}
	defer f.Close()
	const mark = "last completed transaction was at log time "
	var at time.Time
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		_, rest, ok := strings.Cut(sc.Text(), mark)
		if !ok {
			continue
		}
		if t, err := time.Parse("2006-01-02 15:04:05.999999-07", strings.TrimSpace(rest)); err == nil {
			at = t
		}
	}
	return at
}
