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

// Exit codes of wal-push and wal-fetch. PostgreSQL treats any non-zero
// status up to 125 as "failed, try again later" (archive_command) or "not
// available" (restore_command); above 125 it takes as a crash of the
// shell and stops the archiver or recovery, so we stay below except when
// killed by a signal. The codes are distinct for people reading logs.
const (
	exitOK          = 0
	exitFailed      = 1 // push failed; fetch: not in the archive
	exitUsage       = 2 // bad arguments or configuration
	exitFetchFailed = 3 // fetch failed for another reason (outage, corrupt object)
)

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
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	want := map[string]int{"wal-push": 1, "wal-fetch": 2}[cmd]
	if fs.NArg() != want {
		fmt.Fprintf(stderr, "tenure-agent %s: want %d argument(s) (%s), got %q\n", cmd, want,
			map[string]string{"wal-push": "%p", "wal-fetch": "%f %p"}[cmd], fs.Args())
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	code, err := walCommand(ctx, cmd, fs.Args(), *configPath, *logLevel, stderr)
	if sig := ctx.Err(); sig != nil && code != exitOK {
		// Killed by postgres (shutdown) or an operator: say so the way
		// postgres expects, by dying of the signal.
		stop()
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}
	if err != nil && !(cmd == "wal-fetch" && errors.Is(err, wal.ErrNotArchived)) {
		fmt.Fprintf(stderr, "tenure-agent %s: %v\n", cmd, err)
	} else if err != nil {
		// restore_command probes for files that do not exist (the next
		// timeline's history file, the segment after the last): one
		// short line, not an alarm.
		fmt.Fprintf(stderr, "tenure-agent %s: %s not in the archive\n", cmd, fs.Arg(0))
	}
	return code
}

// walCommand does the work and maps the outcome to an exit code.
func walCommand(ctx context.Context, cmd string, args []string, configPath, logLevel string, stderr io.Writer) (int, error) {
	if configPath == "" {
		configPath = env("TENURE_ARCHIVE_CONFIG", "")
	}
	// Only the data directory's own archive (the default config file) is
	// the agent's: an explicit config may name another cluster's archive,
	// as a clone's or standby cluster's restore_command does, which the
	// agent's service would answer from the wrong archive.
	if configPath == "" {
		if handled, err := handoff(ctx, cmd, args); handled {
			return exitCode(cmd, err), err
		}
		configPath = archiveConfigFile
	}
	cfg, err := wal.LoadConfig(configPath)
	if err != nil {
		return exitUsage, err
	}
	store, err := wal.OpenStore(ctx, cfg)
	if err != nil {
		return exitUsage, err
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "tenure-agent " + cmd, Level: hclog.LevelFromString(logLevel), Output: stderr})
	a, err := wal.New(cfg, store, log)
	if err != nil {
		return exitUsage, err
	}
	if cmd == "wal-push" {
		err = a.Push(ctx, args[0])
	} else {
		err = a.Fetch(ctx, args[0], args[1])
	}
	return exitCode(cmd, err), err
}

func exitCode(cmd string, err error) int {
	switch {
	case err == nil:
		return exitOK
	case cmd == "wal-fetch" && !errors.Is(err, wal.ErrNotArchived):
		return exitFetchFailed
	}
	return exitFailed
}

// handoff passes the request to the running agent's WAL service (package
// walsvc) over its unix socket, which keeps S3 connections warm and
// uploads ahead of postgres. handled is false when no service answered,
// and the command then does the work itself (see walCommand for when it
// is asked at all): push and fetch are
// idempotent, so doing it twice is safe. The socket path is relative:
// postgres runs the commands in the data directory.
func handoff(ctx context.Context, cmd string, args []string) (handled bool, err error) {
	if cmd == "wal-push" {
		err = walsvc.Push(ctx, walsvc.SocketName, args[0])
	} else {
		err = walsvc.Fetch(ctx, walsvc.SocketName, args[0], args[1])
	}
	if errors.Is(err, walsvc.ErrNoServer) {
		return false, nil
	}
	return true, err
}
