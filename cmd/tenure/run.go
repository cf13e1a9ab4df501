package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tenure-pg/tenure/leaderelect"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// observer is the member name the CLI's Store uses. It never publishes a
// heartbeat, so no agent ever sees it as a member.
const observer = "tenure-cli"

// env is everything run takes from its surroundings, so tests can drive it
// against an in-memory store and fake editor.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	now    func() time.Time
	// open returns a Store for t; nil means the Kubernetes API (openKube).
	open func(ctx context.Context, e *env, t target) (*leaderelect.Store, error)
	// edit runs the editor on path; nil means $EDITOR (runEditor).
	edit func(ctx context.Context, e *env, path string) error
	http *http.Client
	// withdrawGrace is how long a withdrawn switchover intent may precede
	// the lease change it caused (they are separate objects, seen by
	// separate watches) before the switchover counts as failed.
	withdrawGrace time.Duration
	// poll bounds how long a wait goes without re-checking its deadline.
	poll time.Duration
}

func defaultEnv() env {
	return env{
		getenv:        os.Getenv,
		stdin:         os.Stdin,
		now:           time.Now,
		http:          &http.Client{},
		withdrawGrace: 5 * time.Second,
		poll:          time.Second,
	}
}

// target says which cluster to open.
type target struct {
	kubeconfig string
	namespace  string
	cluster    string
}

// cli is one invocation.
type cli struct {
	env
	out, errOut io.Writer
	prog        string
	t           target
}

// usageError is a bad invocation: exit 2, nothing changed.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// command is one subcommand: its synopsis and a setup that defines its
// flags on fs and returns what runs after parsing.
type command struct {
	synopsis string
	summary  string
	setup    func(c *cli, fs *flag.FlagSet) func(ctx context.Context, args []string) error
}

var commands = map[string]command{
	"list":        {"[cluster] [-o table|json]", "show members, roles, lag and the lock", setupList},
	"switchover":  {"[cluster] [--leader X] [--candidate Y] [--scheduled RFC3339] [--force] [--wait 60s]", "hand leadership to another member", setupSwitchover(false)},
	"failover":    {"[cluster] --candidate Y [--force] [--wait 60s]", "promote a member when the leader is unhealthy", setupSwitchover(true)},
	"pause":       {"[cluster]", "turn automatic failover off (maintenance mode)", setupPause(true)},
	"resume":      {"[cluster]", "turn automatic failover back on", setupPause(false)},
	"history":     {"[cluster] [-o table|json]", "show the failover history", setupHistory},
	"edit-config": {"[cluster] [--set key=value]... [--pg name=value]... [--force]", "change the dynamic configuration", setupEditConfig},
	"restart":     {"[cluster] member... [--pending] [--role R] [--token-file F] [--ca-file F] [--force]", "restart members' postgres via their REST API", setupMemberCommand("restart")},
	"reinit":      {"[cluster] member... [--token-file F] [--ca-file F] [--force]", "wipe and re-clone members via their REST API", setupMemberCommand("reinit")},
	"backup":      {backupSynopsis, "list, take, delete, verify and prune base backups in the archive", setupBackup},
	"restore":     {"--archive-config FILE --data-dir DIR [--backup ID] [--target-time T|--target-lsn L|--target-xid X|--target-name N|--target-immediate]", "restore a base backup and recover it (checked against the archive's end)", setupRestore},
}

// run executes one invocation and returns its exit code.
func run(ctx context.Context, prog string, args []string, stdout, stderr io.Writer, e env) int {
	c := &cli{env: e, out: stdout, errOut: stderr, prog: prog}
	err := c.dispatch(ctx, args)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "Error: %s\n", ue.msg)
		fmt.Fprintf(stderr, "Run '%s help' for usage.\n", prog)
		return exitUsage
	}
	fmt.Fprintf(stderr, "Error: %s\n", err)
	return exitFail
}

func (c *cli) dispatch(ctx context.Context, args []string) error {
	top := flag.NewFlagSet(c.prog, flag.ContinueOnError)
	top.SetOutput(io.Discard)
	c.commonFlags(top)
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.usage(c.out)
			return err
		}
		return usagef("%v", err)
	}
	rest := top.Args()
	if len(rest) == 0 || rest[0] == "help" {
		c.usage(c.out)
		if len(rest) == 0 {
			return usagef("no command given")
		}
		return nil
	}
	cmd, ok := commands[rest[0]]
	if !ok {
		return usagef("unknown command %q", rest[0])
	}
	fs := flag.NewFlagSet(c.prog+" "+rest[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.commonFlags(fs)
	do := cmd.setup(c, fs)
	pos, err := parseInterleaved(fs, rest[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(c.out, "Usage: %s %s %s\n\n%s.\n\nFlags:\n", c.prog, rest[0], cmd.synopsis, cmd.summary)
		fs.SetOutput(c.out)
		fs.PrintDefaults()
		return err
	}
	if err != nil {
		return usagef("%s: %v", rest[0], err)
	}
	return do(ctx, pos)
}

// parseInterleaved parses flags anywhere among the arguments, so both
// `tenure list -n ns alpha` and `tenure list alpha -n ns` work; "--" ends
// flag parsing.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func (c *cli) commonFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.t.kubeconfig, "kubeconfig", c.t.kubeconfig, "path to the kubeconfig file (default $KUBECONFIG, ~/.kube/config or in-cluster)")
	for _, name := range []string{"n", "namespace"} {
		fs.StringVar(&c.t.namespace, name, c.t.namespace, "namespace of the cluster (default: the kubeconfig context's)")
	}
	for _, name := range []string{"c", "cluster"} {
		fs.StringVar(&c.t.cluster, name, c.t.cluster, "cluster name (or give it as the first argument)")
	}
}

func (c *cli) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s <command> [flags] [cluster] ...\n\nCommands:\n", c.prog)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nCommon flags: --kubeconfig PATH, -n/--namespace NS, -c/--cluster NAME.\nRun '%s <command> -h' for a command's flags.\n", c.prog)
}

// clusterArg takes the cluster name from -c or the first argument and
// returns the remaining arguments.
func (c *cli) clusterArg(args []string) ([]string, error) {
	if c.t.cluster == "" {
		if len(args) == 0 {
			return nil, usagef("no cluster given: pass it as the first argument or with -c")
		}
		c.t.cluster, args = args[0], args[1:]
	}
	if err := leaderelect.ValidateName("cluster", c.t.cluster); err != nil {
		return nil, usagef("%v", err)
	}
	return args, nil
}

// noMoreArgs rejects arguments a command does not take.
func noMoreArgs(args []string) error {
	if len(args) > 0 {
		return usagef("unexpected arguments: %s", strings.Join(args, " "))
	}
	return nil
}

// openCluster is the preamble of the commands that take only a cluster:
// it takes the cluster from -c or args, rejects any other argument, runs
// check (if not nil) for what can be refused without the cluster, and then
// opens the store. The caller closes it.
func (c *cli) openCluster(ctx context.Context, args []string, check func() error) (*leaderelect.Store, error) {
	args, err := c.clusterArg(args)
	if err != nil {
		return nil, err
	}
	if err := noMoreArgs(args); err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(); err != nil {
			return nil, err
		}
	}
	return c.openStore(ctx)
}

// openStore opens the cluster named in c.t and checks that it exists.
func (c *cli) openStore(ctx context.Context) (*leaderelect.Store, error) {
	open := c.open
	if open == nil {
		open = openKube
	}
	st, err := open(ctx, &c.env, c.t)
	if err != nil {
		return nil, err
	}
	v := st.View()
	if !v.StateExists && !v.Lock.Exists && len(v.Members) == 0 {
		st.Close()
		where := ""
		if c.t.namespace != "" {
			where = " in namespace " + c.t.namespace
		}
		return nil, fmt.Errorf("cluster %q not found%s", c.t.cluster, where)
	}
	return st, nil
}

// confirm asks a yes/no question on stdin unless force; anything but
// y/yes (including end of input) is no.
func (c *cli) confirm(force bool, question string) error {
	if force {
		return nil
	}
	fmt.Fprintf(c.out, "%s [y/N]: ", question)
	line, _ := bufio.NewReader(c.stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errors.New("aborted")
}
