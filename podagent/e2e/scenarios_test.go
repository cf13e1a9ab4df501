package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenure-pg/tenure/internal/testenv"
)

// startHealthy starts c and waits for a primary and streaming replicas.
func startHealthy(t testing.TB, c *cluster) *member {
	c.startAll()
	p := c.waitPrimary(60 * time.Second)
	for _, m := range c.members {
		if m != p {
			c.waitStreaming(m, 60*time.Second)
		}
	}
	if err := exec1(t, p, "CREATE TABLE t (id int primary key)"); err != nil {
		t.Fatal(err)
	}
	return p
}

func other(c *cluster, not *member) *member {
	for _, m := range c.members {
		if m != not {
			return m
		}
	}
	return nil
}

func TestSwitchoverViaREST(t *testing.T) {
	c := newCluster(t, testenv.Shared(t), 3)
	p := startHealthy(t, c)
	cand := other(c, p)
	body, _ := json.Marshal(map[string]string{"leader": p.name, "candidate": cand.name})
	resp, err := apiPost(p.api+"/switchover", string(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.dumpLogs()
		t.Fatalf("switchover answered %s", resp.Status)
	}
	if np := c.waitPrimary(20*time.Second, p); np != cand {
		t.Fatalf("switchover to %s made %s primary", cand.name, np.name)
	}
	c.waitStreaming(p, 60*time.Second)
	if err := exec1(t, cand, "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	waitRows(t, c, p, "t", 1)

	// A malformed or impossible request changes nothing.
	for _, bad := range []string{`{"candidate":`, `{"leader":"nobody","candidate":"` + p.name + `"}`} {
		resp, err := apiPost(cand.api+"/switchover", bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Fatalf("bad switchover %s answered %s", bad, resp.Status)
		}
	}
	if c.waitPrimary(time.Second) != cand {
		t.Fatal("a rejected switchover moved the leader")
	}
}

func TestSwitchoverViaCLI(t *testing.T) {
	kube := testenv.Shared(t)
	c := newCluster(t, kube, 2)
	p := startHealthy(t, c)
	cand := other(c, p)
	kubeconfig := p.path("kubeconfig") // the agent's identity is enough to record an intent
	out, err := exec.Command("go", "run", "github.com/tenure-pg/tenure/cmd/tenure", "switchover",
		"--kubeconfig", kubeconfig, "-n", c.ns, "-c", c.name, "--candidate", cand.name, "--force").CombinedOutput()
	if err != nil {
		c.dumpLogs()
		t.Fatalf("tenure switchover: %v\n%s", err, out)
	}
	if np := c.waitPrimary(20*time.Second, p); np != cand {
		t.Fatalf("CLI switchover to %s made %s primary", cand.name, np.name)
	}
	out, err = exec.Command("go", "run", "github.com/tenure-pg/tenure/cmd/tenure", "list",
		"--kubeconfig", kubeconfig, "-n", c.ns, "-c", c.name).CombinedOutput()
	if err != nil || !strings.Contains(string(out), cand.name) {
		t.Fatalf("tenure list: %v\n%s", err, out)
	}
	t.Logf("tenure list:\n%s", out)
}

func TestSIGTERMHandsOverWithoutTTLWait(t *testing.T) {
	c := newCluster(t, testenv.Shared(t), 3)
	p := startHealthy(t, c)
	began := time.Now()
	p.stop(30 * time.Second)
	np := c.waitPrimary(20*time.Second, p)
	took := time.Since(began)
	t.Logf("graceful stop: %s leads %v after SIGTERM", np.name, took.Round(time.Millisecond))
	// The TTL is 10 s; a hand-over must not wait for it.
	if took >= 10*time.Second {
		t.Fatalf("new leader after %v: the lock was not handed over", took)
	}
	if err := exec1(t, np, "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	p.start()
	c.waitStreaming(p, 60*time.Second)
	waitRows(t, c, p, "t", 1)
}

func TestMemberOfAnotherClusterRefused(t *testing.T) {
	kube := testenv.Shared(t)
	c := newCluster(t, kube, 1)
	startHealthy(t, c)
	foreign := testenv.StartPostgres(t, testenv.PostgresOptions{})
	foreign.Stop()
	m := c.newMember("pg-9")
	m.extra = append(m.extra, "--data-dir", foreign.DataDir)
	c.members = append(c.members, m)
	before := controlSysid(t, foreign)
	m.start()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := m.status()
		if err == nil && st.State == "needs attention" {
			break
		}
		if time.Now().After(deadline) {
			c.dumpLogs()
			t.Fatalf("foreign member state %q (err %v), want needs attention", st.State, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if m.get("/health") == http.StatusOK {
		t.Fatal("foreign member started postgres")
	}
	if after := controlSysid(t, foreign); after != before {
		t.Fatalf("foreign data directory changed: system id %s -> %s", before, after)
	}
}

func controlSysid(t testing.TB, p *testenv.Postgres) string {
	out, err := p.Command(context.Background(), "pg_controldata", p.DataDir).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_controldata: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "Database system identifier:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "Database system identifier:"))
		}
	}
	t.Fatalf("no system identifier in\n%s", out)
	return ""
}

// writer inserts rows through whichever member answers /primary over
// one connection at a time, recording every acknowledged id and when and
// where it was acknowledged, until stopped.
type writer struct {
	c     *cluster
	mu    sync.Mutex
	acked []int
	acks  []ack
	next  atomic.Int64
	stop  chan struct{}
	done  chan struct{}
}

type ack struct {
	at     time.Time
	member *member
}

func startWriter(c *cluster) *writer {
	w := &writer{c: c, stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *writer) primary() *member {
	for _, m := range w.c.members {
		if m.get("/primary") == http.StatusOK {
			return m
		}
	}
	return nil
}

func (w *writer) run() {
	defer close(w.done)
	var conn *pgx.Conn
	var target *member
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for {
		select {
		case <-w.stop:
			return
		default:
		}
		if conn == nil {
			if target = w.primary(); target == nil {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			c, err := pgx.Connect(ctx, target.dsn())
			cancel()
			if err != nil {
				continue
			}
			conn = c
		}
		id := int(w.next.Add(1))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := conn.Exec(ctx, "INSERT INTO t VALUES ($1)", id)
		cancel()
		if err != nil {
			conn.Close(context.Background())
			conn = nil
			continue
		}
		w.mu.Lock()
		w.acked = append(w.acked, id)
		w.acks = append(w.acks, ack{time.Now(), target})
		w.mu.Unlock()
	}
}

func (w *writer) halt() []int {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int(nil), w.acked...)
}

// gap is the time between the last acknowledgement by old and the first
// by another member.
func (w *writer) gap(old *member) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var last time.Time
	for _, a := range w.acks {
		if a.member == old {
			last = a.at
		} else if !last.IsZero() {
			return a.at.Sub(last)
		}
	}
	return -1
}

// missing returns the acknowledged ids m lacks.
func missing(t testing.TB, m *member, acked []int) []int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgxConnect(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	have := map[int]bool{}
	rows, err := conn.Query(ctx, "SELECT id FROM t")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		have[id] = true
	}
	var lost []int
	for _, id := range acked {
		if !have[id] {
			lost = append(lost, id)
		}
	}
	return lost
}
