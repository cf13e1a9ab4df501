package postmaster

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"syscall"
)

// Kill SIGKILLs postmaster pid and the processes it forked, like a
// container or node dying, and waits (WaitFree) until they are gone and
// nothing holds the data directory's shared memory. Killing the group
// alone misses the children, which each lead their own (see the package
// doc). The postmaster is stopped first so that it forks nothing while its
// children are listed.
func Kill(ctx context.Context, pid int, dataDir string) error {
	_ = syscall.Kill(pid, syscall.SIGSTOP)
	pids := append(children(pid), pid)
	_ = syscall.Kill(-pid, syscall.SIGKILL) // the group, when it leads one
	for _, p := range pids {
		_ = syscall.Kill(-p, syscall.SIGKILL) // a child's group: archive_command and the like
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	return WaitFree(ctx, dataDir, pids...)
}

// children lists the processes whose parent is pid, from /proc.
func children(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _, ok := procStat(p); ok && ppid == pid {
			out = append(out, p)
		}
	}
	return out
}

// Running reports whether pid exists and is not a zombie: a zombie has
// released its memory (and its attachment to shared memory), and one
// reparented to a PID 1 that reaps late may stay a zombie for long.
func Running(pid int) bool {
	if _, state, ok := procStat(pid); ok {
		return state != 'Z' && state != 'X'
	}
	if procAvailable() {
		return false
	}
	err := syscall.Kill(pid, 0) // EPERM: it exists, as another user
	return err == nil || errors.Is(err, syscall.EPERM)
}

// procStat reads the parent pid and state of pid from /proc/<pid>/stat,
// whose second field (the command) may hold spaces and parentheses.
func procStat(pid int) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	fields := bytes.Fields(b[i+1:])
	if len(fields) < 2 || len(fields[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(string(fields[1]))
	return ppid, fields[0][0], err == nil
}

func procAvailable() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}
