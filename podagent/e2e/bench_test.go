package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/internal/testenv"
)

// BenchmarkFailover is `make bench-failover`: three members at default
// timings (TTL 10 s) in synchronous mode against a real apiserver, a
// client writing continuously through whichever member answers /primary,
// and TENURE_BENCH_ROUNDS (default 5) rounds of each scenario. It prints
// one RESULT line per scenario; the gap is from the last write the old
// primary acknowledged to the first the new one did.
func BenchmarkFailover(b *testing.B) {
	rounds := 5
	if n, err := strconv.Atoi(os.Getenv("TENURE_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	for range b.N {
		runFailoverBench(b, rounds)
	}
}

type benchRun struct {
	b    *testing.B
	c    *cluster
	w    *writer
	dual atomic.Int64
	stop chan struct{}
}

func runFailoverBench(b *testing.B, rounds int) {
	tt := b
	c := newCluster(tt, testenv.Shared(b), 3, "--sync-mode", "on")
	startHealthy(tt, c)
	r := &benchRun{b: b, c: c, stop: make(chan struct{})}
	go r.watchDual()
	r.w = startWriter(c)
	waitAcked(tt, r.w, 100)

	kill := r.rounds(rounds, func(p *member) { p.kill9() })
	fmt.Printf("RESULT failover-kill rounds=%d p50_ms=%d p99_ms=%d max_ms=%d lost_acked=%d dual_primary=%d\n",
		rounds, pct(kill.gaps, 50), pct(kill.gaps, 99), pct(kill.gaps, 100), kill.lost, r.dual.Load())
	term := r.rounds(rounds, func(p *member) { p.stop(30 * time.Second) })
	fmt.Printf("RESULT failover-sigterm rounds=%d p50_ms=%d p99_ms=%d lost_acked=%d\n",
		rounds, pct(term.gaps, 50), pct(term.gaps, 99), term.lost)
	sw := r.rounds(rounds, r.switchover)
	fmt.Printf("RESULT switchover rounds=%d p50_gap_ms=%d p99_gap_ms=%d lost_acked=%d\n",
		rounds, pct(sw.gaps, 50), pct(sw.gaps, 99), sw.lost)
	// Idle: no client, no probes beyond what a load balancer would send.
	r.w.halt()
	close(r.stop)
	rss, cpu := agentUsage(c.members[0], 10*time.Second)
	fmt.Printf("RESULT agent rss_mb=%.1f cpu_idle_pct=%.2f\n", rss, cpu)
	fmt.Printf("RESULT failover-dual-primary samples_with_two=%d\n", r.dual.Load())
}

type roundStats struct {
	gaps []time.Duration
	lost int
}

// rounds disrupts the primary n times with do, measuring the write gap,
// then brings the old member back as a streaming replica.
func (r *benchRun) rounds(n int, do func(p *member)) roundStats {
	tt := r.b
	var s roundStats
	for range n {
		r.waitSync() // a healthy synchronous cluster is each round's start
		p := r.c.waitPrimary(60 * time.Second)
		before := len(ackedNow(r.w))
		waitAcked(tt, r.w, before+20)
		do(p)
		np := r.c.waitPrimary(60*time.Second, p)
		waitAcked(tt, r.w, len(ackedNow(r.w))+20)
		s.gaps = append(s.gaps, r.w.gap(p))
		s.lost += len(missing(tt, np, ackedNow(r.w)))
		if p.cmd == nil {
			p.start()
		}
		r.c.waitStreaming(p, 120*time.Second)
		r.w.mu.Lock()
		r.w.acks = nil // gaps of the next round only
		r.w.mu.Unlock()
	}
	return s
}

// switchover asks p to hand over to the best eligible member (in
// synchronous mode only a synchronous standby qualifies).
func (r *benchRun) switchover(p *member) {
	body, _ := json.Marshal(map[string]string{"leader": p.name})
	resp, err := apiPost(p.api+"/switchover", string(body))
	if err != nil {
		r.b.Fatal(err)
	}
	resp.Body.Close()
}

// waitSync waits until a standby is published as synchronous: right after
// a change of leader none is (it must catch up first), and until then no
// automatic failover or switchover is possible in synchronous mode.
func (r *benchRun) waitSync() {
	deadline := time.Now().Add(60 * time.Second)
	for {
		for _, m := range r.c.members {
			if m.get("/sync") == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			r.b.Fatal("no synchronous standby within 60s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// watchDual samples every member's /primary; a sample where two answer
// 200 counts as a dual primary.
func (r *benchRun) watchDual() {
	for {
		select {
		case <-r.stop:
			return
		case <-time.After(20 * time.Millisecond):
		}
		n := 0
		for _, m := range r.c.members {
			if m.get("/primary") == http.StatusOK {
				n++
			}
		}
		if n > 1 {
			r.dual.Add(1)
		}
	}
}

func pct(ds []time.Duration, p int) int64 {
	if len(ds) == 0 {
		return -1
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(i, len(s))-1)].Milliseconds()
}

// agentUsage reads the member's agent RSS and its CPU use while idle over
// window, from /proc.
func agentUsage(m *member, window time.Duration) (rssMB, cpuPct float64) {
	pid := m.cmd.Process.Pid
	t0 := cpuTicks(pid)
	time.Sleep(window) // the measurement window itself
	t1 := cpuTicks(pid)
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			rssMB = kb / 1024
		}
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	return rssMB, 100 * float64(t1-t0) / ticksPerSecond / window.Seconds()
}

func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b)[strings.LastIndex(string(b), ")")+2:])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime
}

// BenchmarkFailoverFreeze is the frozen-agent campaign of `make
// bench-failover`: per synchronous mode, TENURE_BENCH_ROUNDS rounds of
// SIGSTOP of the primary's agent for 20 s (postgres running) under a
// writer through /primary and a writer holding direct connections to the
// frozen member. lost_acked counts acknowledged writes missing from the
// new primary; dual_write the direct writes acknowledged on the frozen
// member after its lease could have been taken; p99_ms is the writer's
// gap through /primary.
func BenchmarkFailoverFreeze(b *testing.B) {
	rounds := 5
	if n, err := strconv.Atoi(os.Getenv("TENURE_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	for range b.N {
		for _, mode := range []string{"off", "on"} {
			c := newCluster(b, testenv.Shared(b), 3, "--sync-mode", mode)
			startHealthy(b, c)
			w := startWriter(c)
			var lost, dual int
			var gaps []time.Duration
			for range rounds {
				r := freezeRound(b, c, w, 20*time.Second, false)
				lost, dual = lost+len(r.lost), dual+r.dual
				gaps = append(gaps, r.gap)
			}
			w.halt()
			fmt.Printf("RESULT failover-freeze sync=%s rounds=%d lost_acked=%d dual_write=%d p99_ms=%d\n",
				mode, rounds, lost, dual, pct(gaps, 99))
		}
	}
}
