package api

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
)

func getJSON(t *testing.T, url string) any {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s = %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var v any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPatroniDocument(t *testing.T) {
	tests := []struct {
		name string
		snap Snapshot
		want string
	}{
		{"primary", primarySnap(), `{
			"state": "running", "postmaster_start_time": "2026-11-23 11:00:00+00:00", "role": "primary",
			"server_version": 150004, "xlog": {"location": 83886080}, "timeline": 2,
			"replication": [{"usename": "replicator", "application_name": "m2", "client_addr": "10.0.0.2",
				"state": "streaming", "sync_state": "sync", "sync_priority": 1}],
			"cluster_unlocked": false, "dcs_last_seen": 1795435200,
			"database_system_identifier": "7268616322854375442",
			"patroni": {"version": "4.0.0", "scope": "alpha", "name": "m1"},
			"tenure": {"version": "dev", "running": true, "received_lsn": 0, "replayed_lsn": 0, "flushed_lsn": 83886080,
				"epoch": 3, "lock_holder": "m1", "leading": true, "failover_priority": 0, "nofailover": false, "nosync": false}}`},
		{"replica", asyncReplicaSnap(), `{
			"state": "running", "postmaster_start_time": "2026-11-23 11:00:00+00:00", "role": "replica",
			"server_version": 150004,
			"xlog": {"received_location": 82837504, "replayed_location": 82837504, "paused": false},
			"replication_state": "streaming", "timeline": 2, "cluster_unlocked": false,
			"database_system_identifier": "7268616322854375442", "tags": {"nofailover": true},
			"patroni": {"version": "4.0.0", "scope": "alpha", "name": "m3"},
			"tenure": {"version": "dev", "running": true, "received_lsn": 82837504, "replayed_lsn": 82837504, "flushed_lsn": 0,
				"epoch": 3, "lock_holder": "m1", "leading": false, "failover_priority": 0, "nofailover": true, "nosync": false}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, _, _ := newTestServer(t, tc.snap)
			got := getJSON(t, ts.URL+"/patroni")
			var want any
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("/patroni (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFetch(t *testing.T) {
	ts, _, _ := newTestServer(t, replicaSnap())
	for _, base := range []string{ts.URL, ts.URL + "/", ts.URL + "/patroni"} {
		st, err := Fetch(context.Background(), ts.Client(), base)
		if err != nil {
			t.Fatalf("Fetch(%s): %v", base, err)
		}
		want := TenureInfo{Version: "dev", Running: true, ReceivedLSN: 0x4000000, ReplayedLSN: 0x4000000, Epoch: 3, LockHolder: "m1"}
		if diff := cmp.Diff(want, st.Tenure); diff != "" {
			t.Errorf("Fetch(%s).Tenure (-want +got):\n%s", base, diff)
		}
	}
	_, err := Fetch(context.Background(), ts.Client(), ts.URL+"/nothing/here")
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 404 || !errors.Is(err, ErrNotFound) {
		t.Errorf("Fetch of a wrong URL: %v, want a 404 StatusError", err)
	}
}

func TestClientCommands(t *testing.T) {
	ts, _, cmds := newTestServer(t, replicaSnap())
	c := Client{HTTP: ts.Client(), BaseURL: ts.URL + "/patroni", Token: testToken}
	if msg, err := c.Restart(context.Background(), RestartRequest{PendingOnly: true, Timeout: time.Minute}); err != nil || msg != "restarted successfully" {
		t.Errorf("Restart = %q, %v", msg, err)
	}
	if msg, err := c.Reinitialize(context.Background(), true); err != nil || msg != "reinitialize started" {
		t.Errorf("Reinitialize = %q, %v", msg, err)
	}
	cmds.err = ErrUnavailable
	if _, err := c.Restart(context.Background(), RestartRequest{}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Restart refused: %v, want ErrUnavailable", err)
	}
	c.Token = "wrong"
	if _, err := c.Reinitialize(context.Background(), false); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("Reinitialize with a wrong token: %v, want ErrUnauthorized", err)
	}
}

func TestClusterDocument(t *testing.T) {
	s := primarySnap()
	s.View.State.Config.Paused = true
	s.View.State.Switchover = nil
	ts, _, _ := newTestServer(t, s)
	got := getJSON(t, ts.URL+"/cluster")
	var want any
	_ = json.Unmarshal([]byte(`{
		"scope": "alpha", "database_system_identifier": "7268616322854375442", "leader": "m1", "epoch": 3, "pause": true,
		"members": [
			{"name": "m1", "role": "leader", "state": "running", "api_url": "http://10.0.0.1:8008/patroni",
			 "host": "10.0.0.1", "port": 5432, "timeline": 2},
			{"name": "m2", "role": "sync_standby", "state": "running", "api_url": "http://10.0.0.2:8008/patroni",
			 "host": "10.0.0.2", "port": 5432, "timeline": 2,
			 "lsn": "0/4000000", "receive_lsn": "0/4000000", "replay_lsn": "0/4000000",
			 "lag": 16777216, "receive_lag": 16777216, "replay_lag": 16777216},
			{"name": "m3", "role": "replica", "state": "running", "api_url": "http://10.0.0.3:8008/patroni",
			 "host": "10.0.0.3", "port": 5432, "timeline": 2, "tags": {"nofailover": true},
			 "lsn": "0/4F00000", "receive_lsn": "0/4F00000", "replay_lsn": "0/4F00000",
			 "lag": 1048576, "receive_lag": 1048576, "replay_lag": 1048576}
		]}`), &want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("/cluster (-want +got):\n%s", diff)
	}
	if hist := getJSON(t, ts.URL+"/history"); !cmp.Equal(hist, []any{[]any{1.0, float64(0x3000000), "no recovery target specified", "2026-11-23T11:00:00Z", "m1"}}) {
		t.Errorf("/history = %v", hist)
	}
}

func TestOutcome(t *testing.T) {
	tests := []struct {
		req           SwitchoverRequest
		before, after string
		want          string
	}{
		{SwitchoverRequest{Leader: "m1", Candidate: "m2"}, "m1", "m2", `Successfully switched over to "m2"`},
		{SwitchoverRequest{Leader: "m1", Candidate: "m2"}, "m1", "m3", `Switched over to "m3" instead of "m2"`},
		{SwitchoverRequest{Leader: "m1"}, "m1", "m3", `Successfully switched over to "m3"`},
		{SwitchoverRequest{Leader: "m1", Candidate: "m2"}, "m1", "m1", `Successfully switched over to "m2"`},
		{SwitchoverRequest{Leader: "m1"}, "m1", "m1", `Successfully switched over`},
		{SwitchoverRequest{Candidate: "m2", Failover: true}, "", "m2", `Successfully failed over to "m2"`},
	}
	for _, tc := range tests {
		if got := outcome(tc.req, tc.before, tc.after); got != tc.want {
			t.Errorf("outcome(%+v, %s, %s) = %q, want %q", tc.req, tc.before, tc.after, got, tc.want)
		}
	}
}

func TestMetrics(t *testing.T) {
	ts, _, _ := newTestServer(t, replicaSnap())
	code, body := call(t, ts, http.MethodGet, "/metrics", "", "")
	if code != 200 {
		t.Fatalf("GET /metrics = %d", code)
	}
	for _, series := range []string{
		`tenure_postgres_running{name="m2",scope="alpha"} 1`,
		`tenure_primary{name="m2",scope="alpha"} 0`,
		`tenure_replica{name="m2",scope="alpha"} 1`,
		`tenure_sync_standby{name="m2",scope="alpha"} 1`,
		`tenure_leading{name="m2",scope="alpha"} 0`,
		`tenure_timeline{name="m2",scope="alpha"} 2`,
		`tenure_xlog_location_bytes{name="m2",scope="alpha"} 0`,
		`tenure_xlog_received_location_bytes{name="m2",scope="alpha"} 6.7108864e+07`,
		`tenure_xlog_replayed_location_bytes{name="m2",scope="alpha"} 6.7108864e+07`,
		`tenure_replication_lag_bytes{name="m2",scope="alpha"} 1.6777216e+07`,
		`tenure_pending_restart{name="m2",scope="alpha"} 0`,
		`tenure_cluster_unlocked{name="m2",scope="alpha"} 0`,
		`tenure_lease_epoch{name="m2",scope="alpha"} 3`,
		`tenure_is_paused{name="m2",scope="alpha"} 0`,
		`tenure_ha_loop_age_seconds{name="m2",scope="alpha"} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, series) {
			t.Errorf("/metrics lacks %q", series)
		}
	}
}

func TestServeShutsDownWhenContextEnds(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Token = testToken
	srv, err := New(cfg, &fakeSource{snap: primarySnap()}, &fakeCommands{}, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	url := "http://" + ln.Addr().String() + "/primary"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET while serving: %v", err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve returned %v after cancel, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10 s of cancel")
	}
	if _, err := http.Get(url); err == nil {
		t.Error("still serving after shutdown")
	}
}

func TestConfigValidate(t *testing.T) {
	bad := DefaultConfig()
	bad.Token = testToken
	bad.WriteTimeout = bad.CommandTimeout
	if _, err := New(bad, &fakeSource{}, &fakeCommands{}, nil); err == nil {
		t.Error("New accepted a write timeout not above the command timeout")
	}
	if err := DefaultConfig().Validate(); !errors.Is(err, ErrNoToken) {
		t.Errorf("default config (no token) = %v, want ErrNoToken", err)
	}
	insecure := DefaultConfig()
	insecure.Insecure = true
	if err := insecure.Validate(); err != nil {
		t.Errorf("explicitly insecure config invalid: %v", err)
	}
}
