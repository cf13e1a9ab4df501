package chaos

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ack is one acknowledged insert: its COMMIT returned success.
type ack struct {
	id     int64
	member string
	sent   time.Time
	acked  time.Time
}

// ledger is the workload: writers insert unique ids through whichever
// member answers /primary, and record only what was acknowledged.
type ledger struct {
	c    *cluster
	stop chan struct{}
	wg   sync.WaitGroup

	mu    sync.Mutex
	acks  []ack
	fails int
}

const ledgerDDL = "CREATE TABLE IF NOT EXISTS ledger (id bigint PRIMARY KEY, member text NOT NULL)"

// startLedger creates the table on the primary and starts n writers.
func startLedger(t testing.TB, c *cluster, n int) *ledger {
	t.Helper()
	p := c.waitRoles(30 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.dsn())
	if err != nil {
		t.Fatalf("connect to primary %s: %v", p.name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, ledgerDDL); err != nil {
		t.Fatalf("create ledger: %v", err)
	}
	l := &ledger{c: c, stop: make(chan struct{})}
	for w := range n {
		l.wg.Add(1)
		go l.writer(int64(w+1) * 1_000_000_000)
	}
	return l
}

// writer inserts ids first, first+1, ... one commit each. It keeps its
// connection to a member until an error, so a member that lost the lease
// but still has clients is exactly what it exercises.
func (l *ledger) writer(first int64) {
	defer l.wg.Done()
	var conn *pgx.Conn
	var at *member
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for id := first; ; id++ {
		select {
		case <-l.stop:
			return
		default:
		}
		if conn == nil {
			if at = l.c.primary(); at == nil {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			c, err := pgx.Connect(ctx, at.dsn())
			cancel()
			if err != nil {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			conn = c
		}
		if a, err := insert(conn, at.name, id, 2*time.Second); err == nil {
			l.record(a)
		} else {
			l.mu.Lock()
			l.fails++
			l.mu.Unlock()
			conn.Close(context.Background())
			conn = nil
		}
	}
}

// insert commits one id (autocommit: the INSERT's success is its COMMIT's).
func insert(conn *pgx.Conn, member string, id int64, timeout time.Duration) (ack, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	a := ack{id: id, member: member, sent: time.Now()}
	_, err := conn.Exec(ctx, "INSERT INTO ledger (id, member) VALUES ($1, $2)", id, member)
	a.acked = time.Now()
	return a, err
}

func (l *ledger) record(a ack) {
	l.mu.Lock()
	l.acks = append(l.acks, a)
	l.mu.Unlock()
}

// snapshot is a copy of the acknowledgements so far.
func (l *ledger) snapshot() []ack {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]ack(nil), l.acks...)
}

// firstAckAfter is the first acknowledgement after t by a member other
// than not, or the zero ack.
func (l *ledger) firstAckAfter(t time.Time, not string) ack {
	var first ack
	for _, a := range l.snapshot() {
		if a.member != not && a.sent.After(t) && (first.acked.IsZero() || a.acked.Before(first.acked)) {
			first = a
		}
	}
	return first
}

// stopAndVerify stops the writers and checks that every acknowledged id
// is on the primary, returning how many were acknowledged.
func (l *ledger) stopAndVerify(t testing.TB) int {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	lost, rows, p := l.verify(t)
	acks := l.snapshot()
	if len(lost) > 0 {
		t.Errorf("%d of %d acknowledged writes lost, on primary %s: %v", len(lost), len(acks), p, lost[:min(len(lost), 10)])
	}
	t.Logf("ledger: %d acknowledged, %d failed attempts, %d rows on primary %s", len(acks), l.fails, rows, p)
	return len(acks)
}

// verify reads every id on the primary (once one member is primary and
// the others replicas) and returns the acknowledged ids missing there,
// the rows it has and its name. Writers may go on meanwhile: only ids
// acknowledged before the read began count.
func (l *ledger) verify(t testing.TB) (lost []string, rows int, primary string) {
	t.Helper()
	p := l.c.waitRoles(60 * time.Second)
	acks := l.snapshot()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.dsn())
	if err != nil {
		t.Fatalf("connect to primary %s: %v", p.name, err)
	}
	defer conn.Close(ctx)
	rs, err := conn.Query(ctx, "SELECT id FROM ledger")
	if err != nil {
		t.Fatalf("read ledger: %v", err)
	}
	have := map[int64]bool{}
	for rs.Next() {
		var id int64
		if err := rs.Scan(&id); err != nil {
			t.Fatal(err)
		}
		have[id] = true
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	for _, a := range acks {
		if !have[a.id] {
			lost = append(lost, fmt.Sprintf("%d (on %s at %s)", a.id, a.member, a.acked.Format("15:04:05.000")))
		}
	}
	return lost, len(have), p.name
}
