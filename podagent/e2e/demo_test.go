//go:build demo

package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/internal/testenv"
)

// TestDemo is `make demo`: three real agents with real PostgreSQL 15 on
// 127.0.0.x and a real kube-apiserver, narrated on stdout as a new user
// would watch them: bootstrap, replication, a kill -9 of the primary, the
// old primary's rejoin with pg_rewind, a switchover from the CLI and a
// graceful stop that hands the lock over.
func TestDemo(t *testing.T) {
	say := func(format string, args ...any) {
		fmt.Printf("\n==> "+format+"\n", args...)
	}
	list := func(c *cluster) {
		out, err := exec.Command(cliBin(t), "list", "--kubeconfig", c.members[0].path("kubeconfig"),
			"-n", c.ns, "-c", c.name).CombinedOutput()
		if err != nil {
			t.Fatalf("tenure list: %v\n%s", err, out)
		}
		fmt.Print(string(out))
	}
	say("starting etcd + kube-apiserver on loopback and three tenure-agents, each with PostgreSQL 15 on its own 127.0.0.x")
	c := newCluster(t, testenv.Shared(t), 3)
	began := time.Now()
	p := startHealthy(t, c)
	say("cluster up in %v: %s is primary, the others stream from it", time.Since(began).Round(time.Millisecond), p.name)
	list(c)

	for i := range 100 {
		if err := exec1(t, p, "INSERT INTO t VALUES ($1)", i); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range c.members {
		waitRows(t, c, m, "t", 100)
	}
	say("wrote 100 rows on %s; every replica has them", p.name)

	say("kill -9 of %s (agent and postgres): the others wait for the lease TTL (10 s) as they observe it, rank by WAL position, one promotes", p.name)
	began = time.Now()
	p.kill9()
	np := c.waitPrimary(30*time.Second, p)
	say("%s is primary %v after the kill; Services follow the tenure.dev/role label: %s=%q, %s=%q",
		np.name, time.Since(began).Round(time.Millisecond), p.name, c.podRole(p), np.name, c.podRole(np))
	list(c)

	say("restarting %s: it was a primary on the old timeline, so it rewinds with pg_rewind and follows %s", p.name, np.name)
	p.start()
	c.waitStreaming(p, 60*time.Second)
	list(c)

	say("switchover back to %s with the CLI: tenure switchover --candidate %s", p.name, p.name)
	began = time.Now()
	out, err := exec.Command(cliBin(t), "switchover", "--kubeconfig", p.path("kubeconfig"), "-n", c.ns, "-c", c.name,
		"--candidate", p.name, "--force").CombinedOutput()
	if err != nil {
		t.Fatalf("tenure switchover: %v\n%s", err, out)
	}
	fmt.Print(string(out))
	c.waitPrimary(20*time.Second, np)
	say("switchover done in %v", time.Since(began).Round(time.Millisecond))
	for _, m := range c.members {
		if m != p {
			c.waitStreaming(m, 60*time.Second)
		}
	}
	list(c)

	say("SIGTERM to the primary %s: it checkpoints, waits for a replica to have every byte, and hands the lock over directly", p.name)
	began = time.Now()
	p.stop(30 * time.Second)
	np = c.waitPrimary(20*time.Second, p)
	say("%s is primary %v after the SIGTERM (no TTL wait)", np.name, time.Since(began).Round(time.Millisecond))
	p.start()
	c.waitStreaming(p, 60*time.Second)
	list(c)

	resp, err := http.Get(np.api + "/history")
	if err == nil {
		defer resp.Body.Close()
		say("GET %s/history (Patroni-compatible):", np.api)
		_, _ = os.Stdout.ReadFrom(resp.Body)
		fmt.Println()
	}
	say("done; everything stops now")
}
