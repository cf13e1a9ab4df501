package e2e

import (
	"testing"
	"time"

	"github.com/tenure-pg/tenure/internal/testenv"
)

// TestSyncModeLosesNoAcknowledgedCommit writes continuously through the
// primary in synchronous mode, kills it with SIGKILL, and checks that the
// new primary holds every acknowledged row.
func TestSyncModeLosesNoAcknowledgedCommit(t *testing.T) {
	c := newCluster(t, testenv.Shared(t), 3, "--sync-mode", "on")
	p := startHealthy(t, c)
	// Wait until a standby is published as synchronous (only it may promote).
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := p.status()
		if err == nil && len(st.Replication) > 0 && anySync(st.Replication) {
			break
		}
		if time.Now().After(deadline) {
			c.dumpLogs()
			t.Fatalf("no synchronous standby within 30s: %+v %v", st.Replication, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	w := startWriter(c)
	waitAcked(t, w, 500)
	p.kill9()
	np := c.waitPrimary(30*time.Second, p)
	waitAcked(t, w, len(ackedNow(w))+20) // writes resume on the new primary
	acked := w.halt()
	if lost := missing(t, np, acked); len(lost) > 0 {
		c.dumpLogs()
		t.Fatalf("new primary %s lacks %d of %d acknowledged rows: %v", np.name, len(lost), len(acked), lost)
	}
	t.Logf("%d acknowledged rows, none lost across the kill of %s; %s leads; write gap %v", len(acked), p.name, np.name, w.gap(p).Round(time.Millisecond))
}

func anySync(rs []apiReplication) bool {
	for _, r := range rs {
		if r.SyncState == "sync" {
			return true
		}
	}
	return false
}

func ackedNow(w *writer) []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int(nil), w.acked...)
}

func waitAcked(t testing.TB, w *writer, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for len(ackedNow(w)) < n {
		if time.Now().After(deadline) {
			w.c.dumpLogs()
			t.Fatalf("only %d of %d writes acknowledged", len(ackedNow(w)), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
