package postmaster

import (
	"context"
	"errors"
	"os/exec"
	"testing"
	"time"
)

func TestWaitFreeWaitsForPids(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	dataDir := t.TempDir() // no postmaster.pid: only the pid counts

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := WaitFree(ctx, dataDir, cmd.Process.Pid); !errors.Is(err, ErrInUse) {
		t.Fatalf("WaitFree with a live pid = %v, want ErrInUse", err)
	}
	_ = cmd.Process.Kill() // left a zombie: it counts as gone
	ctx, cancel = context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := WaitFree(ctx, dataDir, cmd.Process.Pid); err != nil {
		t.Fatalf("WaitFree after kill: %v", err)
	}
}
