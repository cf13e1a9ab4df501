package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/tenure-pg/tenure/walarchive/wal"
	"github.com/tenure-pg/tenure/walarchive/walsvc"
)

// Exit codes of wal-push and wal-fetch. PostgreSQL 15 reads them so
// (xlogarchive.c, RestoreArchivedFile; pgarch.c): archive_command's
// non-zero status means "failed, retry later"; restore_command's status 1
// to 125 means "no such file", which in archive recovery (recovery.signal)
// ENDS recovery and promotes at that point, and in standby mode
// (standby.signal) only makes postgres try streaming and ask again after
// wal_retrieve_retry_interval. A status above 125 (or death by a signal
// other than SIGTERM) is "the shell failed" and is FATAL to the startup
// process: postgres stops instead of starting.
//
// So wal-fetch answers 1 only when the archive was reached and the file
// is absent. A store it cannot reach or an object that fails its
// checksum is retried for the archive config's fetchRetry; then, in
// archive recovery, wal-fetch exits exitAbort so that postgres stops
// with the data it has rather than promote on a history cut short; in
// standby mode it exits exitFailed, because there it means "ask again
// later" and aborting would stop a standby for good over a short outage.
const (
	exitOK     = 0
	exitFailed = 1 // push failed; fetch: not in the archive (or, on a standby, not now)
	exitUsage  = 2 // bad arguments or configuration
	// exitAbort: fetch failed for another reason (outage, corrupt
	// object) during archive recovery: abort recovery. 255 is above
	// PostgreSQL's 125 and is not 126/127, which its log would call
	// "command not executable"/"not found", nor 128+n, which shells
	// report as death by signal n.
	exitAbort = 255
)

// standbySignal is the file whose presence in the data directory (the
// working directory of restore_command) puts postgres in standby mode;
// wal-fetch reads the same fact postgres does, so they cannot disagree
// about whether a failure ends recovery. Both the agent's replicas and
// clones render the same restore_command, and `tenure restore` or a
// custom setup need no flag to get it right.
const standbySignal = "standby.signal"

// archiveConfigFile is looked up in the working directory, which is the
// data directory when postgres runs archive_command or restore_command.
const archiveConfigFile = "tenure-archive.json"

// isWALCommand reports whether args name a WAL subcommand.
func isWALCommand(args []string) bool {
	return len(args) > 0 && (args[0] == "wal-push" || args[0] == "wal-fetch")
}

// runWAL runs `wal-push PATH` or `wal-fetch NAME DEST`.
func runWAL(args []string, stderr io.Writer) int {
	cmd := args[0]
	fs := flag.NewFlagSet("tenure-agent "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "archive config (default $TENURE_ARCHIVE_CONFIG, else ./"+archiveConfigFile+")")
	logLevel := fs.String("log-level", "off", "log level of the archiver's own log lines (the outcome is always reported)")
	// A restore_command that cannot even be parsed must not look like
	// the end of the archive either.
	usage := exitUsage
	if cmd == "wal-fetch" {
		usage = fetchExit(errUsage, inStandby())
	}
	if err := fs.Parse(args[1:]); err != nil {
		return usage
	}
	want := map[string]int{"wal-push": 1, "wal-fetch": 2}[cmd]
	if fs.NArg() != want {
		fmt.Fprintf(stderr, "tenure-agent %s: want %d argument(s) (%s), got %q\n", cmd, want,
			map[string]string{"wal-push": "%p", "wal-fetch": "%f %p"}[cmd], fs.Args())
		return usage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var code int
	var err error
	if cmd == "wal-fetch" {
		code, err = fetchCommand(ctx, fs.Args(), *configPath, *logLevel, stderr)
	} else {
		code, err = pushCommand(ctx, fs.Arg(0), *configPath, *logLevel, stderr)
	}
	if sig := ctx.Err(); sig != nil && code != exitOK {
		// Killed by postgres (shutdown) or an operator: say so the way
		// postgres expects, by dying of the signal.
		stop()
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}
	switch {
	case err == nil:
	case cmd == "wal-fetch" && errors.Is(err, wal.ErrNotArchived):
		// restore_command probes for files that do not exist (the next
		// timeline's history file, the segment after the last): one
		// short line, not an alarm.
		fmt.Fprintf(stderr, "tenure-agent %s: %s not in the archive\n", cmd, fs.Arg(0))
	case code == exitAbort:
		fmt.Fprintf(stderr, "tenure-agent %s: %v; exit %d: stopping recovery here rather than ending it early on a history cut short (fix the archive, then start postgres again)\n", cmd, err, code)
	default:
		fmt.Fprintf(stderr, "tenure-agent %s: %v\n", cmd, err)
	}
	return code
}

// pushCommand archives path: through the agent's WAL service when the
// data directory's own archive is meant and the service answers, else
// itself.
func pushCommand(ctx context.Context, path, configPath, logLevel string, stderr io.Writer) (int, error) {
	if configPath == "" {
		configPath = env("TENURE_ARCHIVE_CONFIG", "")
	}
	// Only the data directory's own archive (the default config file) is
	// the agent's: an explicit config may name another cluster's archive,
	// as a clone's or standby cluster's restore_command does, which the
	// agent's service would answer from the wrong archive.
	if configPath == "" {
		err := walsvc.Push(ctx, walsvc.SocketName, path)
		if !errors.Is(err, walsvc.ErrNoServer) {
			return pushExit(err), err
		}
		configPath = archiveConfigFile
	}
	a, err := openArchiver(ctx, configPath, "wal-push", logLevel, stderr)
	if err != nil {
		return exitUsage, err
	}
	err = a.Push(ctx, path)
	return pushExit(err), err
}

func pushExit(err error) int {
	if err == nil {
		return exitOK
	}
	return exitFailed
}

// openArchiver loads the config at path and opens its store.
func openArchiver(ctx context.Context, path, cmd, logLevel string, stderr io.Writer) (*wal.Archiver, error) {
	cfg, err := wal.LoadConfig(path)
	if err != nil {
		return nil, err
	}
	store, err := wal.OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "tenure-agent " + cmd, Level: hclog.LevelFromString(logLevel), Output: stderr})
	return wal.New(cfg, store, log)
}
