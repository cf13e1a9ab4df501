package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/internal/testenv"
)

// TestAPIOutageKeepsPrimary stops the kube-apiserver for 60 s: with
// failsafe mode the primary, confirmed by its peers over REST, keeps
// running and accepting writes, and nobody else promotes.
func TestAPIOutageKeepsPrimary(t *testing.T) {
	kube := testenv.StartKube(t)
	c := newCluster(t, kube, 3)
	p := startHealthy(t, c)
	kube.StopAPIServer()
	outage := time.Now()
	for i := 0; time.Since(outage) < 60*time.Second; i++ {
		if err := exec1(t, p, "INSERT INTO t VALUES ($1)", i); err != nil {
			c.dumpLogs()
			t.Fatalf("write %d at %v into the outage: %v", i, time.Since(outage).Round(time.Millisecond), err)
		}
		for _, m := range c.members {
			if code := m.get("/primary"); (m == p) != (code == http.StatusOK) {
				c.dumpLogs()
				t.Fatalf("%v into the outage %s answers /primary %d", time.Since(outage).Round(time.Millisecond), m.name, code)
			}
		}
		time.Sleep(250 * time.Millisecond) // write cadence of the client, not synchronisation
	}
	if err := kube.StartAPIServer(context.Background()); err != nil {
		t.Fatal(err)
	}
	if np := c.waitPrimary(30 * time.Second); np != p {
		t.Fatalf("after the outage %s leads, not %s", np.name, p.name)
	}
	n, err := count(t, p, "t")
	if err != nil || n < 100 {
		t.Fatalf("%d rows written during the outage (err %v)", n, err)
	}
}

// TestLeaderCutOffAloneDemotes cuts only the primary off from the API: it
// must stop answering /primary before anyone else can take the lock, and
// another member must lead.
func TestLeaderCutOffAloneDemotes(t *testing.T) {
	c := newCluster(t, testenv.Shared(t), 3)
	p := startHealthy(t, c)
	if err := p.proxy.Cut(); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	np := c.waitPrimary(30*time.Second, p) // fails on two /primary 200s at once
	t.Logf("leader cut off: %s stopped being primary, %s leads %v after the cut", p.name, np.name, time.Since(cut).Round(time.Millisecond))
	if code := p.get("/primary"); code == http.StatusOK {
		t.Fatal("cut-off leader still answers /primary")
	}
	if err := exec1(t, np, "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if err := p.proxy.Heal(); err != nil {
		t.Fatal(err)
	}
	c.waitStreaming(p, 60*time.Second)
	waitRows(t, c, p, "t", 1)
}
