package api

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenure-pg/tenure/leaderelect"
)

var healthPaths = []string{
	"/", "/primary", "/master", "/read-write", "/leader", "/standby-leader",
	"/replica", "/read-only", "/sync", "/synchronous", "/async", "/asynchronous",
	"/read-only-sync", "/health",
}

// codes builds the expected map: every path 503 except those listed.
func codes(ok ...string) map[string]int {
	m := map[string]int{}
	for _, p := range healthPaths {
		m[p] = http.StatusServiceUnavailable
	}
	for _, p := range ok {
		m[p] = http.StatusOK
	}
	return m
}

func asyncReplicaSnap() Snapshot {
	s := replicaSnap()
	s.Member, s.View.Self = "m3", "m3"
	s.Tags = leaderelect.Tags{NoFailover: true}
	s.Postgres.ReceivedLSN, s.Postgres.ReplayedLSN = 0x4F00000, 0x4F00000 // 1 MiB behind
	return s
}

func TestHealthCodes(t *testing.T) {
	primaryPaths := []string{"/", "/primary", "/master", "/read-write", "/leader", "/read-only", "/read-only-sync", "/health"}
	tests := []struct {
		name string
		snap func() Snapshot
		want map[string]int
	}{
		{"leading primary", primarySnap, codes(primaryPaths...)},
		{"primary without fresh lease", func() Snapshot {
			s := primarySnap()
			s.Leading = false
			return s
		}, codes("/health")},
		{"leading primary still starting", func() Snapshot {
			s := primarySnap()
			s.State = "starting"
			return s
		}, codes("/leader")},
		{"sync replica", replicaSnap, codes("/replica", "/read-only", "/sync", "/synchronous", "/read-only-sync", "/health")},
		{"async replica", asyncReplicaSnap, codes("/replica", "/read-only", "/async", "/asynchronous", "/health")},
		{"diverged replica (WAL past the leader's fork point): healthy nowhere", func() Snapshot {
			s := asyncReplicaSnap()
			s.State = "diverged"
			return s
		}, codes()},
		{"standby cluster leader", func() Snapshot {
			s := asyncReplicaSnap()
			s.View.Lock.Holder = s.Member
			return s
		}, codes("/leader", "/standby-leader", "/replica", "/read-only", "/async", "/asynchronous", "/health")},
		{"standby cluster leader with an expired lease", func() Snapshot {
			s := asyncReplicaSnap()
			s.View.Lock.Holder = s.Member
			s.Now = s.View.Lock.ObservedAt.Add(s.View.Lock.TTL + time.Second)
			return s
		}, codes("/replica", "/read-only", "/async", "/asynchronous", "/health")},
		{"replica rewinding", func() Snapshot {
			s := replicaSnap()
			s.State = "rewinding"
			return s
		}, codes()},
		{"stopped", func() Snapshot {
			s := replicaSnap()
			s.Role, s.State, s.Postgres.Running = leaderelect.RoleNone, "stopped", false
			return s
		}, codes()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, _, _ := newTestServer(t, tc.snap())
			for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodOptions} {
				got := map[string]int{}
				for _, p := range healthPaths {
					code, body := call(t, ts, method, p, "", "")
					got[p] = code
					checkHealthBody(t, method, p, body)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("%s codes (-want +got):\n%s", method, diff)
				}
			}
		})
	}
}

// checkHealthBody: GET carries the status document, HEAD and OPTIONS
// nothing.
func checkHealthBody(t *testing.T, method, path, body string) {
	t.Helper()
	if method != http.MethodGet {
		if body != "" {
			t.Errorf("%s %s: body %q, want none", method, path, body)
		}
		return
	}
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.Patroni.Scope != "alpha" {
		t.Errorf("GET %s: body is not the status document (%v): %s", path, err, body)
	}
}

func TestHealthQuery(t *testing.T) {
	behindLatestEnd := replicaSnap()
	behindLatestEnd.Postgres.LatestEndLSN = 0x6000000 // 32 MiB ahead of replay
	noLeader := replicaSnap()
	noLeader.View.Lock.Holder = ""
	tests := []struct {
		name string
		snap Snapshot
		path string
		want int
	}{
		{"lag equal to limit in MB", replicaSnap(), "/replica?lag=16MB", 200},
		{"lag within limit in kB", replicaSnap(), "/replica?lag=16384kB", 200},
		{"lag limit in bytes one short", replicaSnap(), "/replica?lag=16777215", 503},
		{"lag limit 1MB", replicaSnap(), "/replica?lag=1MB", 503},
		{"lag limit 100 bytes", replicaSnap(), "/replica?lag=100", 503},
		{"caught up replica within 100 bytes", replicaAt(0x5000000), "/replica?lag=100", 200},
		{"lag with space before unit", replicaSnap(), "/replica?lag=32%20MB", 200},
		{"fractional GB", replicaSnap(), "/replica?lag=0.5GB", 200},
		{"bad lag", replicaSnap(), "/replica?lag=abc", 400},
		{"lowercase unit is not a unit", replicaSnap(), "/replica?lag=16mb", 400},
		{"negative lag", replicaSnap(), "/replica?lag=-1", 400},
		{"bad lag on read-only", replicaSnap(), "/read-only?lag=1XB", 400},
		{"receiver ahead of heartbeat counts", behindLatestEnd, "/replica?lag=16MB", 503},
		{"leader position unknown counts as caught up", noLeader, "/replica?lag=0", 200},
		{"lag on async", asyncReplicaSnap(), "/async?lag=1MB", 200},
		{"lag on sync", replicaSnap(), "/sync?lag=1MB", 503},
		{"lag on read-only replica", replicaSnap(), "/read-only?lag=1MB", 503},
		{"lag ignored by primary on read-only", primarySnap(), "/read-only?lag=0", 200},
		{"replication state streaming", replicaSnap(), "/replica?replication_state=streaming", 200},
		{"replication state mismatch", replicaSnap(), "/replica?replication_state=catchup", 503},
		{"tag present", asyncReplicaSnap(), "/replica?tag_nofailover=true", 200},
		{"tag absent", replicaSnap(), "/replica?tag_nofailover=true", 503},
		{"tag value differs", asyncReplicaSnap(), "/replica?tag_nofailover=false", 503},
		{"tags ignored by primary check", primarySnap(), "/primary?tag_nofailover=true", 200},
		{"unknown path", replicaSnap(), "/replicas", 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, _, _ := newTestServer(t, tc.snap)
			if code, body := call(t, ts, http.MethodGet, tc.path, "", ""); code != tc.want {
				t.Errorf("GET %s = %d, want %d (%s)", tc.path, code, tc.want, body)
			}
			if code, _ := call(t, ts, http.MethodOptions, tc.path, "", ""); code != tc.want {
				t.Errorf("OPTIONS %s = %d, want %d", tc.path, code, tc.want)
			}
		})
	}
}

func TestLiveness(t *testing.T) {
	at := func(s Snapshot, age time.Duration, paused bool) Snapshot {
		s.LoopAt, s.Paused = s.Now.Add(-age), paused
		return s
	}
	neverRan := replicaSnap()
	neverRan.LoopAt = time.Time{}
	tests := []struct {
		name string
		snap Snapshot
		want int
	}{
		{"primary loop fresh", at(primarySnap(), 5*time.Second, false), 200},
		{"primary loop at ttl", at(primarySnap(), 10*time.Second, false), 200},
		{"primary loop older than ttl", at(primarySnap(), 11*time.Second, false), 503},
		{"replica loop older than ttl", at(replicaSnap(), 15*time.Second, false), 200},
		{"replica loop older than twice ttl", at(replicaSnap(), 21*time.Second, false), 503},
		{"paused with stuck loop", at(primarySnap(), time.Hour, true), 200},
		{"loop never ran", neverRan, 503},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, _, _ := newTestServer(t, tc.snap)
			if code, _ := call(t, ts, http.MethodGet, "/liveness", "", ""); code != tc.want {
				t.Errorf("GET /liveness = %d, want %d", code, tc.want)
			}
		})
	}
}

func TestReadiness(t *testing.T) {
	notStreaming := replicaSnap()
	notStreaming.Postgres.ReceiverState = ""
	laxConfig := replicaSnap()
	laxConfig.View.State.Config.MaximumLagOnFailover = 32 << 20
	receivedAhead := replicaSnap()
	receivedAhead.Postgres.ReceivedLSN = 0x5000000
	notLeading := primarySnap()
	notLeading.Leading = false
	standbyLeader := notStreaming
	standbyLeader.View.Lock.Holder = standbyLeader.Member
	diverged := replicaAt(0x5000000)
	diverged.State = "diverged"
	tests := []struct {
		name  string
		snap  Snapshot
		query string
		want  int
	}{
		{"leading primary", primarySnap(), "", 200},
		{"primary without lease", notLeading, "", 503},
		{"replica 16 MiB behind default 1 MiB", replicaSnap(), "", 503},
		{"replica caught up", replicaAt(0x5000000), "", 200},
		{"replica within configured maximum lag", laxConfig, "", 200},
		{"replica within lag param", replicaSnap(), "?lag=32MB", 200},
		{"lag param overrides config", laxConfig, "?lag=1MB", 503},
		{"write mode uses received position", receivedAhead, "?mode=write", 200},
		{"apply mode uses replayed position", receivedAhead, "?mode=apply", 503},
		{"replica not streaming", notStreaming, "?lag=1GB", 503},
		{"standby cluster leader replays its source, streams from nobody", standbyLeader, "", 200},
		{"diverged replica, caught up by position", diverged, "?lag=1GB", 503},
		{"bad lag", replicaSnap(), "?lag=lots", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, _, _ := newTestServer(t, tc.snap)
			if code, body := call(t, ts, http.MethodGet, "/readiness"+tc.query, "", ""); code != tc.want {
				t.Errorf("GET /readiness%s = %d, want %d (%s)", tc.query, code, tc.want, body)
			}
		})
	}
}
