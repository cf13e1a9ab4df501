package pgctl

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// killTree SIGKILLs postmaster pid and its children and waits, up to
// immediateGrace, until all are gone. Killing the postmaster's process
// group is not enough: every postgres child calls setsid() and leads its
// own group, and dies on its own schedule once it notices the postmaster
// is gone. Until the last one has exited, the next postmaster refuses to
// start ("pre-existing shared memory block is still in use"; seen here
// about one run in ten with group-only kills). The postmaster is stopped
// first so it forks nothing while its children are listed.
func killTree(pid int) {
	_ = syscall.Kill(pid, syscall.SIGSTOP)
	pids := append(children(pid), pid)
	_ = syscall.Kill(-pid, syscall.SIGKILL) // the group, when it leads one
	for _, p := range pids {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	deadline := time.Now().Add(immediateGrace)
	for _, p := range pids {
		for running(p) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
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

// running reports whether pid exists and is not a zombie: a zombie has
// released its memory (and its attachment to shared memory), and one
// reparented to an agent running as PID 1 may never be reaped.
func running(pid int) bool {
	if _, state, ok := procStat(pid); ok {
		return state != 'Z' && state != 'X'
	}
	return alive(pid) && !procAvailable()
}

// procStat reads the parent pid and state of pid from /proc/<pid>/stat,
// whose second field (the command) may hold spaces and parentheses.
func procStat(pid int) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	fields := bytes.Fields(b[i+1:])
	if i < 0 || len(fields) < 2 || len(fields[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(string(fields[1]))
	return ppid, fields[0][0], err == nil
}

func procAvailable() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}
