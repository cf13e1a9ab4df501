package pgctl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tenure-pg/tenure/internal/postmaster"
)

// StopMode is PostgreSQL's shutdown mode.
type StopMode int

const (
	// Smart waits for clients to disconnect (SIGTERM).
	Smart StopMode = iota
	// Fast disconnects clients and writes a shutdown checkpoint (SIGINT).
	Fast
	// Immediate exits at once; the next start runs crash recovery (SIGQUIT).
	Immediate
)

func (m StopMode) String() string {
	switch m {
	case Smart:
		return "smart"
	case Fast:
		return "fast"
	case Immediate:
		return "immediate"
	}
	return fmt.Sprintf("StopMode(%d)", int(m))
}

func (m StopMode) signal() syscall.Signal {
	switch m {
	case Smart:
		return syscall.SIGTERM
	case Fast:
		return syscall.SIGINT
	}
	return syscall.SIGQUIT
}

// immediateGrace bounds an immediate shutdown before SIGKILL. PostgreSQL
// 15 itself SIGKILLs children that ignore SIGQUIT for 5 s.
const immediateGrace = 10 * time.Second

// oldServerGrace bounds the wait for a dead server's processes to let go
// of its shared memory, on Kill and before a start. Killed backends are
// gone within milliseconds; orphans of a postmaster that died alone exit
// when they next check for its death.
const oldServerGrace = 10 * time.Second

// child is a postmaster this Instance started.
type child struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once reaped
	err  error         // exit status; read after done
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// spawn starts the postmaster with output appended to the log.
func (in *Instance) spawn() (*child, error) {
	logf, err := os.OpenFile(in.cfg.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	defer logf.Close() // the child holds its own descriptor
	cmd := exec.Command(filepath.Join(in.cfg.BinDir, "postgres"), "-D", in.cfg.DataDir,
		"-c", "port="+strconv.Itoa(in.cfg.Port), "-c", "unix_socket_directories="+in.cfg.SocketDir)
	cmd.Dir, cmd.Env = "/", in.env()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:    true, // Kill takes the postmaster and its backends at once
		Pdeathsig:  syscall.SIGQUIT,
		Credential: in.cfg.Credential,
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// Start starts the server and returns once it accepts connections on its
// socket. If the server exits first, or ctx ends first (then the server is
// stopped again), the error carries the log's last lines: Start returns nil
// only with the server up. A standby that cannot reach a consistent state
// never accepts connections, and a long crash recovery takes as long as it
// takes: give ctx the longest start you accept.
func (in *Instance) Start(ctx context.Context) error {
	in.lifecycle.Lock()
	defer in.lifecycle.Unlock()
	began := time.Now()
	if err := in.refuseRunning(); err != nil {
		return fmt.Errorf("start %s: %w", in.cfg.DataDir, err)
	}
	if err := in.requireInitialized(); err != nil {
		return fmt.Errorf("start %s: %w", in.cfg.DataDir, err)
	}
	if err := in.waitOldServer(ctx); err != nil {
		return fmt.Errorf("start %s: %w", in.cfg.DataDir, err)
	}
	c, err := in.spawn()
	if err != nil {
		return fmt.Errorf("start %s: %w", in.cfg.DataDir, err)
	}
	in.mu.Lock()
	in.child = c
	in.mu.Unlock()
	if err := in.waitReady(ctx, c); err != nil {
		if !c.exited() {
			in.halt(c, Immediate)
		}
		return fmt.Errorf("start %s: %w; log %s ends:\n%s", in.cfg.DataDir, err, in.cfg.LogPath, in.logTail())
	}
	in.log.Info("postgres started", "pid", c.pid(), "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// waitOldServer waits until the processes of a server that died (or was
// killed) no longer hold its shared memory, which PostgreSQL checks before
// it starts: a crash restart then starts at once instead of failing with
// "pre-existing shared memory block is still in use" and being retried.
func (in *Instance) waitOldServer(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, oldServerGrace)
	defer cancel()
	return postmaster.WaitFree(ctx, in.cfg.DataDir)
}

// waitReady polls the socket until the server accepts connections, the
// child exits or ctx ends. The interval grows from 5 ms to 100 ms: a
// small cluster is ready in about 100 ms, recovery can take minutes.
func (in *Instance) waitReady(ctx context.Context, c *child) error {
	interval := 5 * time.Millisecond
	for {
		if in.ping(ctx) == nil {
			return nil
		}
		t := time.NewTimer(interval)
		select {
		case <-c.done:
			t.Stop()
			return fmt.Errorf("postgres exited before accepting connections (%v)", c.err)
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("postgres not accepting connections: %w", ctx.Err())
		case <-t.C:
		}
		interval = min(2*interval, 100*time.Millisecond)
	}
}

// Exited returns a channel closed when the current child exits (at once if
// this Instance has no child). Take it again after each Start.
func (in *Instance) Exited() <-chan struct{} {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.child == nil {
		closed := make(chan struct{})
		close(closed)
		return closed
	}
	return in.child.done
}

// Running reports whether this Instance's child is alive. A postmaster
// started by someone else is not counted (Start refuses it instead).
func (in *Instance) Running() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.child != nil && !in.child.exited()
}

// Stop shuts the server down in mode and waits for it to exit. If ctx ends
// first it escalates to an immediate shutdown, then to SIGKILL; it returns
// nil once no server runs (also when none ran). It stops a postmaster that
// this Instance did not start, too (found through postmaster.pid).
func (in *Instance) Stop(ctx context.Context, mode StopMode) error {
	began := time.Now()
	if c := in.current(); c != nil {
		if escalated := in.stopChild(ctx, c, mode); escalated {
			in.log.Warn("postgres shutdown escalated to immediate", "mode", mode, "pid", c.pid(), "reason", ctx.Err())
		}
		in.log.Info("postgres stopped", "mode", mode, "took", time.Since(began).Round(time.Millisecond))
		return nil
	}
	pid, ok := in.postmasterPID()
	if !ok {
		return nil
	}
	if err := in.stopForeign(ctx, pid, mode); err != nil {
		return fmt.Errorf("stop %s: %w", in.cfg.DataDir, err)
	}
	in.log.Info("postgres stopped (not started by this agent)", "mode", mode, "pid", pid)
	return nil
}

// current returns the live child, if any.
func (in *Instance) current() *child {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.child == nil || in.child.exited() {
		return nil
	}
	return in.child
}

// stopChild signals c and waits; when ctx ends first it halts c and
// reports the escalation.
func (in *Instance) stopChild(ctx context.Context, c *child, mode StopMode) (escalated bool) {
	_ = c.cmd.Process.Signal(mode.signal())
	select {
	case <-c.done:
	case <-ctx.Done():
		in.halt(c, Immediate)
		escalated = true
	}
	return escalated
}

// halt stops c immediately, then kills its group after immediateGrace.
func (in *Instance) halt(c *child, mode StopMode) {
	_ = c.cmd.Process.Signal(mode.signal())
	t := time.NewTimer(immediateGrace)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		in.kill(c.pid())
		<-c.done
	}
}

// Kill sends SIGKILL to the postmaster and all its processes, like a
// container or node dying, and waits until they are gone. The next start
// runs crash recovery.
func (in *Instance) Kill() {
	if c := in.current(); c != nil {
		in.kill(c.pid())
		<-c.done
		in.log.Warn("postgres killed", "pid", c.pid())
		return
	}
	if pid, ok := in.postmasterPID(); ok {
		in.kill(pid)
		in.log.Warn("postgres killed (not started by this agent)", "pid", pid)
	}
}

// kill SIGKILLs postmaster pid and its children and waits, up to
// oldServerGrace, until they no longer hold the shared memory; past that
// the next Start waits again and fails with the reason.
func (in *Instance) kill(pid int) {
	ctx, cancel := context.WithTimeout(context.Background(), oldServerGrace)
	defer cancel()
	if err := postmaster.Kill(ctx, pid, in.cfg.DataDir); err != nil {
		in.log.Error("postgres kill", "pid", pid, "error", err)
	}
}

// Reload makes the server re-read its configuration files (SIGHUP).
func (in *Instance) Reload(ctx context.Context) error {
	pid := 0
	if c := in.current(); c != nil {
		pid = c.pid()
	} else if p, ok := in.postmasterPID(); ok {
		pid = p
	}
	if pid == 0 {
		return fmt.Errorf("reload %s: %w", in.cfg.DataDir, ErrNotRunning)
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return fmt.Errorf("reload %s: %w", in.cfg.DataDir, err)
	}
	return nil
}

// refuseRunning returns ErrAlreadyRunning while a postmaster runs on the
// data directory.
func (in *Instance) refuseRunning() error {
	if c := in.current(); c != nil {
		return fmt.Errorf("%w (pid %d, started by this agent)", ErrAlreadyRunning, c.pid())
	}
	if pid, ok := in.postmasterPID(); ok {
		return fmt.Errorf("%w (pid %d from postmaster.pid)", ErrAlreadyRunning, pid)
	}
	return nil
}

// postmasterPID returns the pid in postmaster.pid when that process is
// alive and is a postgres (pids are reused: in a container, the agent may
// now hold the number a dead postmaster had).
func (in *Instance) postmasterPID() (int, bool) {
	b, err := os.ReadFile(filepath.Join(in.cfg.DataDir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if pid < 0 {
		pid = -pid // a single-user server writes its pid negated
	}
	if err != nil || pid <= 1 || pid == os.Getpid() || !postmaster.Running(pid) {
		return 0, false
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return pid, err != nil || strings.HasPrefix(string(comm), "postgres")
}

// stopForeign stops a postmaster that is not our child: signal, then poll.
func (in *Instance) stopForeign(ctx context.Context, pid int, mode StopMode) error {
	if err := syscall.Kill(pid, mode.signal()); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	if waitGone(ctx, pid, 0) == nil {
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGQUIT)
	if waitGone(context.Background(), pid, immediateGrace) == nil {
		return nil
	}
	in.kill(pid)
	return nil
}

// waitGone polls until pid no longer exists, ctx ends or limit (if
// non-zero) passes.
func waitGone(ctx context.Context, pid int, limit time.Duration) error {
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	for postmaster.Running(pid) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("pid %d still running: %w", pid, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}
