package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenure-pg/tenure/leaderelect"
)

func TestAuth(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   int
		called bool
	}{
		{"missing", "", 401, false},
		{"wrong", "Bearer nope", 401, false},
		{"prefix of the right one", "Bearer " + testToken[:4], 401, false},
		{"basic scheme", "Basic " + testToken, 401, false},
		{"right", "Bearer " + testToken, 202, true},
		{"scheme case-insensitive", "bearer " + testToken, 202, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, _, cmds := newTestServer(t, primarySnap())
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/reload", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("POST /reload = %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without a Bearer challenge: %q", resp.Header.Get("WWW-Authenticate"))
			}
			if called := len(cmds.callNames()) > 0; called != tc.called {
				t.Errorf("Commands called = %v, want %v", called, tc.called)
			}
		})
	}
}

func TestReadsNeedNoToken(t *testing.T) {
	ts, _, _ := newTestServer(t, primarySnap())
	for _, p := range []string{"/patroni", "/cluster", "/history", "/config", "/metrics", "/primary"} {
		if code, _ := call(t, ts, http.MethodGet, p, "", ""); code != 200 {
			t.Errorf("GET %s without token = %d, want 200", p, code)
		}
	}
}

func TestMalformedBodiesCallNothing(t *testing.T) {
	big := `{"leader":"m1","candidate":"` + strings.Repeat("x", MaxBodyBytes) + `"}`
	tests := []struct {
		name, method, path, body string
	}{
		{"switchover not json", "POST", "/switchover", `{leader: m1}`},
		{"switchover empty", "POST", "/switchover", ``},
		{"switchover unknown field", "POST", "/switchover", `{"leader":"m1","candidate":"m2","member":"m2"}`},
		{"switchover trailing data", "POST", "/switchover", `{"leader":"m1","candidate":"m2"} {}`},
		{"switchover wrong type", "POST", "/switchover", `{"leader":1}`},
		{"switchover array", "POST", "/switchover", `[]`},
		{"switchover bad name", "POST", "/switchover", `{"leader":"m1","candidate":"M_2"}`},
		{"switchover bad time", "POST", "/switchover", `{"leader":"m1","candidate":"m2","scheduled_at":"tomorrow"}`},
		{"switchover time without zone", "POST", "/switchover", `{"leader":"m1","candidate":"m2","scheduled_at":"2030-01-01T00:00:00"}`},
		{"switchover too large", "POST", "/switchover", big},
		{"failover truncated", "POST", "/failover", `{"candidate":"m2"`},
		{"restart unknown filter", "POST", "/restart", `{"schedule":"2030-01-01T00:00:00Z"}`},
		{"restart bad role", "POST", "/restart", `{"role":"master"}`},
		{"restart zero timeout", "POST", "/restart", `{"timeout":0}`},
		{"restart bad timeout", "POST", "/restart", `{"timeout":"soon"}`},
		{"reinitialize unknown field", "POST", "/reinitialize", `{"from_leader":true}`},
		{"reinitialize string force", "POST", "/reinitialize", `{"force":"yes"}`},
		{"reload body", "POST", "/reload", `{"now":true}`},
		{"patch not an object", "PATCH", "/config", `[1,2]`},
		{"patch unknown setting", "PATCH", "/config", `{"ttl":30,"bogus":1}`},
		{"patch unknown setting deleted", "PATCH", "/config", `{"bogus":null}`},
		{"patch wrong type", "PATCH", "/config", `{"ttl":"30"}`},
		{"patch parameter not a string", "PATCH", "/config", `{"parameters":{"work_mem":4}}`},
		{"patch empty", "PATCH", "/config", ``},
		{"put unknown field", "PUT", "/config", `{"ttl":30,"postgresql":{}}`},
		{"put negative", "PUT", "/config", `{"ttl":-1}`},
		{"put loop_wait not below ttl", "PUT", "/config", `{"ttl":10,"loop_wait":10}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, _, cmds := newTestServer(t, primarySnap())
			code, body := call(t, ts, tc.method, tc.path, testToken, tc.body)
			if code != 400 {
				t.Errorf("%s %s = %d, want 400 (%s)", tc.method, tc.path, code, body)
			}
			if strings.Count(strings.TrimSpace(body), "\n") != 0 {
				t.Errorf("message is not one line: %q", body)
			}
			if calls := cmds.callNames(); len(calls) != 0 {
				t.Errorf("Commands called: %v", calls)
			}
		})
	}
}

func TestSwitchoverValidation(t *testing.T) {
	future := t0.Add(time.Hour).Format(time.RFC3339)
	past := t0.Add(-time.Minute).Format(time.RFC3339)
	paused := primarySnap()
	paused.View.State.Config.Paused = true
	noSync := primarySnap()
	noSync.View.State.Config.SynchronousMode = ""
	tests := []struct {
		name     string
		snap     Snapshot
		path     string
		body     string
		want     int
		wantMsg  string
		wantCall *SwitchoverRequest
	}{
		{"switchover to sync standby", primarySnap(), "/switchover", `{"leader":"m1","candidate":"m2"}`, 200, `Successfully switched over to "m2"`,
			&SwitchoverRequest{Leader: "m1", Candidate: "m2"}},
		{"switchover to any sync standby", primarySnap(), "/switchover", `{"leader":"m1"}`, 200, "",
			&SwitchoverRequest{Leader: "m1"}},
		{"scheduled switchover", primarySnap(), "/switchover", `{"leader":"m1","candidate":"m2","scheduled_at":"` + future + `"}`, 202, "Switchover scheduled",
			&SwitchoverRequest{Leader: "m1", Candidate: "m2", ScheduledAt: t0.Add(time.Hour)}},
		{"switchover without leader", primarySnap(), "/switchover", `{"candidate":"m2"}`, 400, "only from a specific leader", nil},
		{"leader is not the holder", primarySnap(), "/switchover", `{"leader":"m2","candidate":"m3"}`, 412, "leader name does not match", nil},
		{"candidate unknown", noSync, "/switchover", `{"leader":"m1","candidate":"m9"}`, 412, "candidate does not exist", nil},
		{"candidate nofailover", noSync, "/switchover", `{"leader":"m1","candidate":"m3"}`, 412, "tagged nofailover", nil},
		{"candidate outside sync set", primarySnap(), "/switchover", `{"leader":"m1","candidate":"m3"}`, 412, "sync_standby", nil},
		{"candidate is leader", primarySnap(), "/switchover", `{"leader":"m1","candidate":"m1"}`, 400, "target and source are the same", nil},
		{"schedule in the past", primarySnap(), "/switchover", `{"leader":"m1","candidate":"m2","scheduled_at":"` + past + `"}`, 422, "in the past", nil},
		{"schedule while paused", paused, "/switchover", `{"leader":"m1","candidate":"m2","scheduled_at":"` + future + `"}`, 400, "paused", nil},
		{"no candidate while paused", paused, "/switchover", `{"leader":"m1"}`, 400, "specific candidate in a paused state", nil},
		{"failover without candidate", primarySnap(), "/failover", `{}`, 400, "only to a specific candidate", nil},
		{"failover scheduled", primarySnap(), "/failover", `{"candidate":"m2","scheduled_at":"` + future + `"}`, 400, "can't be scheduled", nil},
		{"failover to sync standby", primarySnap(), "/failover", `{"candidate":"m2"}`, 200, `Successfully failed over to "m2"`,
			&SwitchoverRequest{Candidate: "m2", Failover: true}},
		{"failover outside sync set allowed", primarySnap(), "/failover", `{"candidate":"m3"}`, 412, "tagged nofailover", nil},
		{"failover naming leader is a switchover", primarySnap(), "/failover", `{"leader":"m1","candidate":"m2"}`, 200, `Successfully switched over to "m2"`,
			&SwitchoverRequest{Leader: "m1", Candidate: "m2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, _, cmds := newTestServer(t, tc.snap)
			code, body := call(t, ts, http.MethodPost, tc.path, testToken, tc.body)
			if code != tc.want || !strings.Contains(body, tc.wantMsg) {
				t.Errorf("POST %s = %d %q, want %d containing %q", tc.path, code, body, tc.want, tc.wantMsg)
			}
			var want []SwitchoverRequest
			if tc.wantCall != nil {
				want = []SwitchoverRequest{*tc.wantCall}
			}
			if diff := cmp.Diff(want, cmds.sw); diff != "" {
				t.Errorf("Switchover calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateSwitchoverNoCandidates(t *testing.T) {
	v := view("m1")
	v.State.Config.SynchronousMode = ""
	for name, m := range v.Members {
		if name != "m1" {
			m.State = "stopped"
			v.Members[name] = m
		}
	}
	_, err := ValidateSwitchover(v, SwitchoverRequest{Leader: "m1"}, t0)
	if StatusCode(err) != 412 || !strings.Contains(err.Error(), "no good candidates") {
		t.Fatalf("got %v (code %d), want 412 no good candidates", err, StatusCode(err))
	}
	delete(v.Members, "m2")
	delete(v.Members, "m3")
	_, err = ValidateSwitchover(v, SwitchoverRequest{Leader: "m1"}, t0)
	if StatusCode(err) != 412 || !strings.Contains(err.Error(), "does not have members except leader") {
		t.Fatalf("got %v, want 412 no members except leader", err)
	}
}

func TestCommandErrorsMapToCodes(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{fmt.Errorf("x: %w", ErrUnavailable), 503},
		{fmt.Errorf("x: %w", ErrConflict), 409},
		{fmt.Errorf("x: %w", ErrPrecondition), 412},
		{fmt.Errorf("x: %w", ErrBadRequest), 400},
		{fmt.Errorf("x: %w", ErrNotFound), 404},
		{fmt.Errorf("boom"), 500},
	}
	for _, tc := range tests {
		t.Run(tc.err.Error(), func(t *testing.T) {
			ts, _, cmds := newTestServer(t, replicaSnap())
			cmds.err = tc.err
			for _, r := range []struct{ method, path, body string }{
				{"POST", "/restart", `{"restart_pending":true}`},
				{"POST", "/reinitialize", `{"force":true}`},
				{"POST", "/reload", ``},
				{"DELETE", "/switchover", ``},
				{"PATCH", "/config", `{"ttl":30}`},
			} {
				if code, body := call(t, ts, r.method, r.path, testToken, r.body); code != tc.want {
					t.Errorf("%s %s = %d %q, want %d", r.method, r.path, code, body, tc.want)
				}
			}
		})
	}
}

func TestCommandsForwarded(t *testing.T) {
	ts, _, cmds := newTestServer(t, replicaSnap())
	steps := []struct {
		method, path, body string
		want               int
		wantBody           string
	}{
		{"POST", "/restart", `{"restart_pending":true,"role":"replica","timeout":"5min"}`, 200, "restarted successfully"},
		{"POST", "/restart", ``, 200, "restarted successfully"},
		{"POST", "/reinitialize", `{"force":true}`, 200, "reinitialize started"},
		{"POST", "/reinitialize", ``, 200, "reinitialize started"},
		{"POST", "/reload", ``, 202, "reload scheduled"},
		{"DELETE", "/switchover", ``, 200, "scheduled switchover deleted"},
	}
	for _, s := range steps {
		if code, body := call(t, ts, s.method, s.path, testToken, s.body); code != s.want || !strings.Contains(body, s.wantBody) {
			t.Errorf("%s %s = %d %q, want %d %q", s.method, s.path, code, body, s.want, s.wantBody)
		}
	}
	want := []RestartRequest{{PendingOnly: true, Role: leaderelect.RoleReplica, Timeout: 5 * time.Minute}, {}}
	if diff := cmp.Diff(want, cmds.rs); diff != "" {
		t.Errorf("restart requests (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]bool{true, false}, cmds.forced); diff != "" {
		t.Errorf("reinitialize force (-want +got):\n%s", diff)
	}
}

func TestUnknownMethod(t *testing.T) {
	ts, _, _ := newTestServer(t, primarySnap())
	if code, _ := call(t, ts, http.MethodPost, "/primary", testToken, ""); code != http.StatusMethodNotAllowed {
		t.Errorf("POST /primary = %d, want 405", code)
	}
	if code, _ := call(t, ts, http.MethodGet, "/switchover", "", ""); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /switchover = %d, want 405", code)
	}
}
