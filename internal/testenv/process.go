package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// stopGrace bounds a graceful stop before the process group is killed.
// kube-apiserver drains in about a second; postgres's fast shutdown
// checkpoints, which is quick for test-sized clusters.
const stopGrace = 10 * time.Second

// procSpec describes a child process.
type procSpec struct {
	name    string // for messages: "etcd", "kube-apiserver", "postgres"
	path    string
	args    []string
	dir     string
	env     []string // nil: inherit
	logPath string   // stdout and stderr are appended here
	cred    *syscall.Credential
}

// process is a running child whose output goes to a log file.
type process struct {
	spec procSpec
	cmd  *exec.Cmd
	done chan struct{}
	err  error // exit status; read after done is closed
}

func startProcess(spec procSpec) (*process, error) {
	logf, err := os.OpenFile(spec.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: open log: %w", spec.name, err)
	}
	defer logf.Close() // the child holds its own descriptor
	cmd := exec.Command(spec.path, spec.args...)
	cmd.Dir, cmd.Env = spec.dir, spec.env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Own group: Kill takes down a postmaster with its backends.
		Setpgid: true,
		// A test binary that dies (timeout panic, os.Exit) must not leave
		// servers holding ports and temp dirs. Go sets this after switching
		// credentials, so it survives running as the postgres user.
		Pdeathsig:  syscall.SIGKILL,
		Credential: spec.cred,
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.name, err)
	}
	p := &process{spec: spec, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig to the process and waits up to grace for it to exit, then
// kills its whole group. It returns once the process is gone.
func (p *process) stop(sig syscall.Signal, grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.kill()
	}
	// A leader that exited on its own may leave children in its group.
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
}

// kill sends SIGKILL to the whole process group and waits for the leader.
// Postgres backends are not in the group; Postgres.kill takes them too.
func (p *process) kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// exitError describes how the process ended, with its log tail, for start
// failures.
func (p *process) exitError() error {
	return fmt.Errorf("%s exited early (%v); log %s ends:\n%s", p.spec.name, p.err, p.spec.logPath, logTail(p.spec.logPath))
}

// addrInUse reports whether the process's log says its port was taken,
// which the starters answer by retrying on another port.
func (p *process) addrInUse() bool {
	return strings.Contains(strings.ToLower(logTail(p.spec.logPath)), "address already in use")
}

// logTailBytes is enough for the last dozen lines of a startup failure,
// which is where the cause is; whole logs drown the test output.
const logTailBytes = 4 << 10

// logTail returns the end of a log file, starting at a line boundary.
func logTail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > logTailBytes {
		_, _ = f.Seek(st.Size()-logTailBytes, io.SeekStart)
	}
	b, err := io.ReadAll(f)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Sprintf("(read log: %v)", err)
	}
	if len(b) == logTailBytes {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}
