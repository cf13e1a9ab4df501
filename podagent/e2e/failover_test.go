package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenure-pg/tenure/internal/testenv"
)

func exec1(t testing.TB, m *member, sql string, args ...any) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, m.dsn())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql, args...)
	return err
}

// query returns the one value sql selects on m.
func query[T any](t testing.TB, m *member, sql string) (T, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var v T
	conn, err := pgx.Connect(ctx, m.dsn())
	if err != nil {
		return v, err
	}
	defer conn.Close(ctx)
	err = conn.QueryRow(ctx, sql).Scan(&v)
	return v, err
}

func count(t testing.TB, m *member, table string) (int, error) {
	return query[int](t, m, "SELECT count(*) FROM "+table)
}

// waitRows polls until m's table holds want rows.
func waitRows(t testing.TB, c *cluster, m *member, table string, want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var n int
	var err error
	for time.Now().Before(deadline) {
		if n, err = count(t, m, table); err == nil && n == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.dumpLogs()
	t.Fatalf("%s: %d rows in %s (err %v), want %d", m.name, n, table, err, want)
}

func (c *cluster) podRole(m *member) string {
	pod, err := c.kube.AdminClient().CoreV1().Pods(c.ns).Get(context.Background(), m.name, metav1.GetOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	return pod.Labels["tenure.dev/role"]
}

func TestBootstrapKillFailoverAndRejoin(t *testing.T) {
	c := newCluster(t, testenv.Shared(t), 3)
	p := startHealthy(t, c)
	for i := range 10 {
		if err := exec1(t, p, "INSERT INTO t VALUES ($1)", i); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range c.members {
		waitRows(t, c, m, "t", 10)
	}
	if got := c.podRole(p); got != "primary" {
		t.Fatalf("primary pod labelled %q", got)
	}

	began := time.Now()
	p.kill9()
	np := c.waitPrimary(30*time.Second, p)
	took := time.Since(began)
	t.Logf("failover after kill -9: %s leads after %v", np.name, took.Round(time.Millisecond))
	if err := exec1(t, np, "INSERT INTO t VALUES (100)"); err != nil {
		t.Fatalf("write on new primary: %v", err)
	}
	if got := c.podRole(p); got == "primary" {
		t.Fatalf("old primary pod still labelled primary after failover")
	}
	if got := c.podRole(np); got != "primary" {
		t.Fatalf("new primary pod labelled %q", got)
	}

	p.start()
	c.waitStreaming(p, 60*time.Second)
	waitRows(t, c, p, "t", 11)
	st, err := p.status()
	if err != nil || st.Timeline < 2 {
		t.Fatalf("rejoined old primary: timeline %d, err %v; want >= 2", st.Timeline, err)
	}
}

func pgxConnect(ctx context.Context, m *member) (*pgx.Conn, error) { return pgx.Connect(ctx, m.dsn()) }

// TestKubeletReportedDeathSkipsTTL kills the primary and then reports its
// postgres container terminated, as the kubelet would: the others take
// the lock over without waiting for the TTL.
func TestKubeletReportedDeathSkipsTTL(t *testing.T) {
	c := newCluster(t, testenv.Shared(t), 3)
	p := startHealthy(t, c)
	began := time.Now()
	p.kill9()
	ctx := context.Background()
	pods := c.kube.AdminClient().CoreV1().Pods(c.ns)
	pod, err := pods.Get(ctx, p.name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name: "postgres", Image: "tenure:test",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error"}},
	}}
	if _, err := pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	np := c.waitPrimary(30*time.Second, p)
	took := time.Since(began)
	t.Logf("kubelet-reported death: %s leads %v after the kill", np.name, took.Round(time.Millisecond))
	if took >= 5*time.Second {
		t.Fatalf("new leader after %v: the evidence of death did not shorten the 10 s ttl", took)
	}
}
