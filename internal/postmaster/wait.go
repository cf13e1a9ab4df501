package postmaster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// Poll intervals: the last backend of a killed server is usually gone
// within a few milliseconds, so start short; back off for a server whose
// orphans are slow to notice the postmaster's death.
const (
	firstPoll = time.Millisecond
	maxPoll   = 20 * time.Millisecond
)

// ErrInUse is returned (wrapped) when the old server's processes are still
// there when ctx ends.
var ErrInUse = errors.New("old server processes still run")

// WaitFree polls until none of pids runs and no process is attached to the
// shared memory segment named in dataDir/postmaster.pid — the condition
// under which a new postmaster starts instead of failing with
// "pre-existing shared memory block is still in use" — or ctx ends. Call
// it only while no postmaster should run on dataDir: a live one keeps its
// segment attached. Without /proc/sysvipc/shm only pids are waited for.
func WaitFree(ctx context.Context, dataDir string, pids ...int) error {
	interval := firstPoll
	for {
		left := stillRunning(pids)
		seg, n, err := inUse(dataDir)
		if errors.Is(err, fs.ErrNotExist) {
			n, err = 0, nil // no /proc/sysvipc/shm to look at
		}
		if err != nil {
			return fmt.Errorf("wait for old server on %s: %w", dataDir, err)
		}
		if len(left) == 0 && n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w on %s: %d processes attached to shared memory segment %d (key %d), pids %v not gone: %w",
				ErrInUse, dataDir, n, seg.id, seg.key, left, context.Cause(ctx))
		case <-time.After(interval):
		}
		interval = min(2*interval, maxPoll)
	}
}

func stillRunning(pids []int) []int {
	var left []int
	for _, p := range pids {
		if Running(p) {
			left = append(left, p)
		}
	}
	return left
}
