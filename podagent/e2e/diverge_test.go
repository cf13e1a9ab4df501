package e2e

import (
	"net/http"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/internal/testenv"
)

// TestDivergedReplicaIsRewound produces a replica that received WAL past
// the new timeline's fork point: r1 stops receiving, the primary writes
// rows only r2 receives, the primary dies and r1 (r2 is tagged
// nofailover) is promoted without those rows. PostgreSQL on r2 then
// refuses the new timeline forever ("forked off ... before current
// recovery point"); the agent must notice, never report r2 healthy while
// it serves the phantom rows, and rewind it onto r1.
func TestDivergedReplicaIsRewound(t *testing.T) {
	c := newCluster(t, testenv.Shared(t), 3)
	p := startHealthy(t, c)
	for i := range 10 {
		if err := exec1(t, p, "INSERT INTO t VALUES ($1)", i); err != nil {
			t.Fatal(err)
		}
	}
	var reps []*member
	for _, m := range c.members {
		if m != p {
			waitRows(t, c, m, "t", 10)
			reps = append(reps, m)
		}
	}
	r1, r2 := reps[0], reps[1]

	// r2 may never win the election that follows.
	r2.stop(30 * time.Second)
	r2.extra = append(r2.extra, "--nofailover")
	r2.start()
	c.waitStreaming(r2, 60*time.Second)

	// r1 (agent and postgres) freezes and its stream is cut: it gets
	// nothing of what follows.
	r1pg := r1.postmasterPID()
	frozen := []int{-r1.cmd.Process.Pid, -r1pg}
	thaw := func() {
		for _, g := range frozen {
			_ = syscall.Kill(g, syscall.SIGCONT)
		}
		frozen = nil
	}
	t.Cleanup(thaw)
	for _, g := range frozen {
		if err := syscall.Kill(g, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
	}
	if err := exec1(t, p, "SELECT pg_terminate_backend(pid) FROM pg_stat_replication WHERE application_name = $1", r1.name); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "r1's walsender gone", func() bool {
		n, err := query[int64](t, p, "SELECT count(*) FROM pg_stat_replication WHERE application_name = '"+r1.name+"'")
		return err == nil && n == 0
	})
	// The phantom rows: on p and r2 only.
	if err := exec1(t, p, "INSERT INTO t SELECT generate_series(100, 199)"); err != nil {
		t.Fatal(err)
	}
	waitRows(t, c, r2, "t", 110)

	p.kill9()
	thaw()
	if np := c.waitPrimary(60*time.Second, p); np != r1 {
		t.Fatalf("%s became primary, want %s", np.name, r1.name)
	}
	promoted := time.Now()
	t.Logf("%s promoted without the phantom rows", r1.name)

	phantom := func() int {
		n, err := query[int](t, r2, "SELECT count(*) FROM t WHERE id >= 100")
		if err != nil {
			return -1
		}
		return n
	}
	// Until r2 streams on r1's timeline without the phantom rows: once r2
	// was seen unhealthy (detected), it never answers /replica 200 while
	// it still serves them.
	var detected, healed time.Time
	var codes []int
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		code := r2.get("/replica")
		if len(codes) == 0 || codes[len(codes)-1] != code {
			codes = append(codes, code)
		}
		if code != http.StatusOK {
			if detected.IsZero() {
				detected = time.Now()
			}
			continue
		}
		n := phantom()
		if n > 0 && !detected.IsZero() {
			c.dumpLogs()
			t.Fatalf("%s answers /replica 200 serving %d phantom rows after it was detected", r2.name, n)
		}
		st, err := r2.status()
		if n == 0 && err == nil && st.Timeline >= 2 && r2.get("/replica?replication_state=streaming") == http.StatusOK {
			healed = time.Now()
			break
		}
	}
	if healed.IsZero() {
		c.dumpLogs()
		t.Fatalf("%s not streaming on the new timeline without the phantom rows within 90 s (/replica codes %v, phantom rows %d)",
			r2.name, codes, phantom())
	}
	if detected.IsZero() || !logHas(r2, "diverged from") || !logHas(r2, "rewind done") {
		c.dumpLogs()
		t.Fatalf("%s healed without being detected as diverged and rewound (/replica codes %v)", r2.name, codes)
	}
	t.Logf("diverged %s: detected %v after the promotion, streaming again %v after it (/replica codes %v)",
		r2.name, detected.Sub(promoted).Round(time.Millisecond), healed.Sub(promoted).Round(time.Millisecond), codes)

	if err := exec1(t, r1, "INSERT INTO t VALUES (1000)"); err != nil {
		t.Fatal(err)
	}
	waitRows(t, c, r2, "t", 11)
	if slices.Contains(codes, 0) {
		t.Logf("note: %s's API was unreachable at times", r2.name)
	}
}
