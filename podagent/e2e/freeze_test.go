package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenure-pg/tenure/internal/testenv"
)

// TestFrozenAgentTakesNoWrites freezes the primary's agent (SIGSTOP; its
// postgres keeps running) beyond the TTL while one client writes through
// /primary and another holds direct connections to the frozen member's
// postgres, as an application with a pooled connection or the pod IP
// would. Required in every synchronous mode (issue 13): no write is
// acknowledged on the frozen member once another member could hold the
// lock, no acknowledged write is lost, and the member rejoins on thaw.
func TestFrozenAgentTakesNoWrites(t *testing.T) {
	for _, mode := range []string{"off", "on"} {
		t.Run("sync="+mode, func(t *testing.T) {
			c := newCluster(t, testenv.Shared(t), 3, "--sync-mode", mode)
			startHealthy(t, c)
			w := startWriter(c)
			defer w.halt()
			r := freezeRound(t, c, w, 20*time.Second, false)
			t.Logf("sync=%s: %d direct writes acknowledged on the frozen member, %d of them sent after its lease lapsed, %d acknowledged late; write gap %v",
				mode, r.zombieAcked, r.dual, r.late, r.gap.Round(time.Millisecond))
			if r.dual > 0 || r.late > 0 {
				c.dumpLogs()
				t.Errorf("frozen member acknowledged %d writes sent after its lease could have been taken, and %d sent before it but acknowledged after",
					r.dual, r.late)
			}
			if len(r.lost) > 0 {
				c.dumpLogs()
				t.Errorf("%d acknowledged writes lost, first %v", len(r.lost), r.lost[:min(len(r.lost), 10)])
			}
		})
	}
}

// TestFrozenContainerTakesNoNewWrites freezes the primary's agent and
// its postgres together, as `docker pause` of the pod's container, in
// synchronous mode. On thaw no write sent after the lease lapsed may be
// acknowledged and none acknowledged may be lost. A commit whose
// confirmations were already in the kernel's buffers at the freeze can be
// acknowledged on thaw (PostgreSQL acts on them before anything can stop
// it); in synchronous mode the synchronous standby holds it, so it is not
// lost: such late acknowledgements are counted, not failed.
func TestFrozenContainerTakesNoNewWrites(t *testing.T) {
	c := newCluster(t, testenv.Shared(t), 3, "--sync-mode", "on")
	startHealthy(t, c)
	w := startWriter(c)
	defer w.halt()
	r := freezeRound(t, c, w, 20*time.Second, true)
	t.Logf("%d direct writes acknowledged on the frozen member, %d sent after its lease lapsed, %d acknowledged late; write gap %v",
		r.zombieAcked, r.dual, r.late, r.gap.Round(time.Millisecond))
	if r.dual > 0 {
		c.dumpLogs()
		t.Errorf("%d writes sent after the lease lapsed were acknowledged on the frozen member", r.dual)
	}
	if len(r.lost) > 0 {
		c.dumpLogs()
		t.Errorf("%d acknowledged writes lost, first %v", len(r.lost), r.lost[:min(len(r.lost), 10)])
	}
}

type freezeResult struct {
	zombieAcked int // direct writes acknowledged by the frozen member, in all
	dual        int // ... of which sent after its lease could have been taken
	late        int // ... sent before that but acknowledged after
	lost        []int
	gap         time.Duration
}

// freezePIDs are the processes a freeze stops: the agent, and with whole
// its postgres (the postmaster and every child: each leads its own
// process group, so a group signal would miss them).
func freezePIDs(m *member, whole bool) []int {
	pids := []int{m.cmd.Process.Pid}
	if pm := m.postmasterPID(); whole && pm > 0 {
		pids = append(pids, pm)
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
			if err != nil {
				continue
			}
			f := strings.Fields(string(b)[strings.LastIndex(string(b), ")")+2:])
			if len(f) > 1 && f[1] == strconv.Itoa(pm) {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// freezeRound freezes the primary's agent for d, thaws it, waits for it
// to stream from the new primary and checks the ledger.
func freezeRound(t testing.TB, c *cluster, w *writer, d time.Duration, whole bool) freezeResult {
	p := c.waitPrimary(60 * time.Second)
	w.mu.Lock()
	w.acks = nil // the gap of this round only
	w.mu.Unlock()
	z := startPinned(c, p)
	defer z.halt()
	waitAcked(t, w, len(ackedNow(w))+20)
	z.waitAcked(t, 20)

	pids := freezePIDs(p, whole)
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil && pid == pids[0] {
			t.Fatal(err)
		}
	}
	frozen := time.Now()
	thawed := false
	thaw := func() {
		if !thawed {
			for _, pid := range slices.Backward(pids) {
				_ = syscall.Kill(pid, syscall.SIGCONT)
			}
			thawed = true
		}
	}
	defer thaw()
	// The earliest instant anyone else may take the lock: the holder's
	// last renewal (its wall clock; one machine here) plus the TTL.
	lease, err := c.kube.AdminClient().CoordinationV1().Leases(c.ns).Get(context.Background(), c.name+"-leader", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lapse := lease.Spec.RenewTime.Add(time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second)

	np := c.waitPrimary(60*time.Second, p)
	waitAcked(t, w, len(ackedNow(w))+20)
	if left := d - time.Since(frozen); left > 0 {
		time.Sleep(left) // the fault's duration itself, not a wait for a condition
	}
	thaw()
	c.waitStreaming(p, 120*time.Second)

	r := freezeResult{gap: w.gap(p)}
	zacks := z.halt()
	r.zombieAcked = len(zacks)
	acked := ackedNow(w)
	for _, a := range zacks {
		acked = append(acked, a.id)
		switch {
		case a.sent.After(lapse):
			r.dual++
		case a.at.After(lapse):
			r.late++
		}
	}
	r.lost = missing(t, np, acked)
	if st, err := np.status(); err != nil || st.PendingRestart {
		t.Errorf("new primary %s after promotion: pending_restart=%v (%v), want false", np.name, st.PendingRestart, err)
	}
	return r
}

// pinned writes into t over direct connections to one member's postgres,
// whatever its role, recording each acknowledged id and when.
type pinned struct {
	m    *member
	mu   sync.Mutex
	acks []pinnedAck
	stop chan struct{}
	done chan struct{}
}

type pinnedAck struct {
	id       int
	sent, at time.Time
}

// pinnedBase keeps the ids of direct writes apart from the writer's.
const pinnedBase = 1_000_000_000

var pinnedRound int

func startPinned(c *cluster, m *member) *pinned {
	pinnedRound++
	z := &pinned{m: m, stop: make(chan struct{}), done: make(chan struct{})}
	go z.run(pinnedBase + pinnedRound*1_000_000)
	return z
}

func (z *pinned) run(next int) {
	defer close(z.done)
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for {
		select {
		case <-z.stop:
			return
		default:
		}
		if conn == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			c, err := pgx.Connect(ctx, z.m.dsn())
			cancel()
			if err != nil {
				time.Sleep(50 * time.Millisecond) // reconnect pacing while the member is down
				continue
			}
			conn = c
		}
		next++
		// A deadline on the socket (pgx's default), not a cancel request:
		// PostgreSQL turns a cancelled synchronous-replication wait into
		// a success with a WARNING, which a client must not count.
		sent := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := conn.Exec(ctx, "INSERT INTO t VALUES ($1)", next)
		cancel()
		if err != nil {
			conn.Close(context.Background())
			conn = nil
			continue
		}
		z.mu.Lock()
		z.acks = append(z.acks, pinnedAck{next, sent, time.Now()})
		z.mu.Unlock()
	}
}

func (z *pinned) waitAcked(t testing.TB, n int) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, fmt.Sprintf("%d direct writes on %s", n, z.m.name), func() bool {
		z.mu.Lock()
		defer z.mu.Unlock()
		return len(z.acks) >= n
	})
}

func (z *pinned) halt() []pinnedAck {
	select {
	case <-z.stop:
	default:
		close(z.stop)
	}
	<-z.done
	z.mu.Lock()
	defer z.mu.Unlock()
	return append([]pinnedAck(nil), z.acks...)
}
