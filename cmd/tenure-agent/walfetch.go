package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tenure-pg/tenure/walarchive/codec"
	"github.com/tenure-pg/tenure/walarchive/restore"
	"github.com/tenure-pg/tenure/walarchive/wal"
	"github.com/tenure-pg/tenure/walarchive/walname"
	"github.com/tenure-pg/tenure/walarchive/walsvc"
)

// errUsage marks a failure of the command itself (arguments, archive
// config): retrying cannot help.
var errUsage = errors.New("wal-fetch cannot run")

// fetchCommand restores args[0] (%f) to args[1] (%p) and maps the outcome
// to an exit code (see exitAbort). Failures other than "not in the
// archive" are retried with backoff for the config's fetchRetry; a
// standby asks once, since postgres asks it again anyway.
func fetchCommand(ctx context.Context, args []string, configPath, logLevel string, stderr io.Writer) (int, error) {
	standby := inStandby()
	f := &fetcher{configPath: configPath, logLevel: logLevel, stderr: stderr}
	if f.configPath == "" {
		f.configPath = env("TENURE_ARCHIVE_CONFIG", "")
	}
	budget := f.budget()
	if standby {
		budget = 0
	}
	r := retrier{budget: budget, now: time.Now, sleep: sleepCtx, report: func(attempt int, err error, wait time.Duration) {
		fmt.Fprintf(stderr, "tenure-agent wal-fetch: attempt %d: %v; retrying in %v\n", attempt, err, wait.Round(time.Millisecond))
	}}
	err := r.run(ctx, func(ctx context.Context) error { return f.fetch(ctx, args[0], args[1]) })
	code := fetchExit(err, standby)
	if code == exitAbort {
		noteAbort(args[0], err)
	}
	return code, err
}

// noteAbort leaves restore.AbortFile in the data directory (the working
// directory, when it is one) saying why recovery was aborted; best effort.
func noteAbort(name string, err error) {
	if _, serr := os.Stat("PG_VERSION"); serr != nil {
		return
	}
	msg := fmt.Sprintf("%s: restore_command could not fetch %s: %v\n", time.Now().UTC().Format(time.RFC3339), name, err)
	_ = os.WriteFile(restore.AbortFile, []byte(msg), 0o600)
}

// inStandby reports whether postgres runs this restore_command in
// standby mode: standby.signal in the working directory, the data
// directory.
func inStandby() bool {
	_, err := os.Stat(standbySignal)
	return err == nil
}

// fetchExit is the exit code for a fetch's outcome: 1 means "not in the
// archive" only when the archive said so; any other failure aborts
// archive recovery (exitAbort) and, on a standby, asks postgres to try
// again later (exitFailed), which there never ends recovery.
func fetchExit(err error, standby bool) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, wal.ErrNotArchived), standby:
		return exitFailed
	}
	return exitAbort
}

// fetcher does one fetch attempt: through the agent's WAL service when
// the data directory's own archive is meant (no config named) and the
// service answers, else with its own Archiver, made once.
type fetcher struct {
	configPath string // "": the data directory's own archive
	logLevel   string
	stderr     io.Writer
	arch       *wal.Archiver
	loaded     bool
	cfg        wal.Config
	cfgErr     error
}

func (f *fetcher) path() string {
	if f.configPath == "" {
		return archiveConfigFile
	}
	return f.configPath
}

// config loads the archive config once.
func (f *fetcher) config() (wal.Config, error) {
	if !f.loaded {
		f.loaded = true
		f.cfg, f.cfgErr = wal.LoadConfig(f.path())
	}
	return f.cfg, f.cfgErr
}

// budget is how long to retry: the config's fetchRetry, or the default
// when it cannot be read (the agent's service may still answer).
func (f *fetcher) budget() time.Duration {
	if cfg, err := f.config(); err == nil {
		return time.Duration(cfg.FetchRetry)
	}
	return wal.DefaultFetchRetry
}

func (f *fetcher) fetch(ctx context.Context, name, dest string) error {
	if f.configPath == "" {
		// Only the data directory's own archive is the agent's: an
		// explicit config may name another cluster's archive (a clone's
		// or standby cluster's restore_command).
		err := walsvc.Fetch(ctx, walsvc.SocketName, name, dest)
		if !errors.Is(err, walsvc.ErrNoServer) {
			return err
		}
	}
	if f.arch == nil {
		if _, err := f.config(); err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		a, err := openArchiver(ctx, f.path(), "wal-fetch", f.logLevel, f.stderr)
		if err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		f.arch = a
	}
	return f.arch.Fetch(ctx, name, dest)
}

// retrier retries a fetch that failed in a way that may pass (an
// unreachable store, a download cut short or corrupt in transit) until
// budget has passed since the first attempt, waiting 250 ms, then twice
// as long each time up to 8 s.
type retrier struct {
	budget time.Duration
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	report func(attempt int, err error, wait time.Duration)
}

const (
	firstRetryWait = 250 * time.Millisecond
	maxRetryWait   = 8 * time.Second
)

func (r retrier) run(ctx context.Context, fetch func(context.Context) error) error {
	deadline := r.now().Add(r.budget)
	wait := firstRetryWait
	for attempt := 1; ; attempt++ {
		err := fetch(ctx)
		if err == nil || !retriable(err) || ctx.Err() != nil {
			return err
		}
		left := deadline.Sub(r.now())
		if left <= 0 {
			if attempt == 1 {
				return err
			}
			return fmt.Errorf("%w (gave up after %d attempts in %v)", err, attempt, r.budget)
		}
		w := min(wait, left)
		r.report(attempt, err, w)
		if r.sleep(ctx, w) != nil {
			return err
		}
		wait = min(2*wait, maxRetryWait)
	}
}

// retriable: everything but an answer (not archived) and failures that
// no retry changes (a bad name, the wrong key, an unreadable config).
func retriable(err error) bool {
	for _, permanent := range []error{wal.ErrNotArchived, errUsage, walname.ErrInvalid, codec.ErrKeyRequired, codec.ErrWrongKey} {
		if errors.Is(err, permanent) {
			return false
		}
	}
	return true
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
