package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/api"
)

func TestUsageErrorsChangeNothing(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no command", nil, "no command given"},
		{"unknown command", []string{"lsit", "alpha"}, `unknown command "lsit"`},
		{"unknown flag", []string{"pause", "alpha", "--now"}, "flag provided but not defined: -now"},
		{"unknown top-level flag", []string{"--verbose", "list", "alpha"}, "flag provided but not defined"},
		{"no cluster", []string{"pause"}, "no cluster given"},
		{"bad cluster name", []string{"pause", "Alpha_1"}, "cluster name"},
		{"extra argument", []string{"pause", "alpha", "beta"}, "unexpected arguments: beta"},
		{"bad output", []string{"list", "alpha", "-o", "yaml"}, "output format"},
		{"bad schedule", []string{"switchover", "alpha", "--scheduled", "tomorrow", "--force"}, "RFC 3339"},
		{"negative wait", []string{"switchover", "alpha", "--wait", "-1s", "--force"}, "--wait"},
		{"bad duration", []string{"failover", "alpha", "--candidate", "m2", "--wait", "soon"}, "invalid value"},
		{"failover without candidate", []string{"failover", "alpha", "--force"}, "failover needs --candidate"},
		{"failover has no --leader", []string{"failover", "alpha", "--leader", "m1", "--candidate", "m2"}, "not defined: -leader"},
		{"restart without member", []string{"restart", "alpha", "--force"}, "name at least one member"},
		{"restart bad role", []string{"restart", "alpha", "m2", "--role", "master", "--force"}, "--role"},
		{"edit-config bad set", []string{"edit-config", "alpha", "--set", "=1", "--force"}, "want key=value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.seed()
			before := f.state()
			code, _, errOut := f.run(tc.args...)
			if code != exitUsage || !strings.Contains(errOut, tc.wantErr) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.wantErr)
			}
			if diff := cmp.Diff(before, f.state()); diff != "" {
				t.Errorf("state changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	f := newFixture(t)
	for _, args := range [][]string{{"help"}, {"-h"}, {"list", "-h"}} {
		code, out, _ := f.run(args...)
		if code != 0 || !strings.Contains(out, "Usage: tenure") {
			t.Errorf("%v: exit %d, output %q", args, code, out)
		}
	}
	if got := progName("/usr/local/bin/kubectl-tenure"); got != "kubectl tenure" {
		t.Errorf("progName = %q", got)
	}
}

// memberAPI serves one member's REST API with a fake agent behind it.
type memberAPI struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (m *memberAPI) record(what string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, what)
	return m.err
}
func (m *memberAPI) Switchover(context.Context, api.SwitchoverRequest) error {
	return m.record("switchover")
}
func (m *memberAPI) CancelSwitchover(context.Context) error { return m.record("cancel") }
func (m *memberAPI) Restart(_ context.Context, r api.RestartRequest) error {
	return m.record("restart pending=" + map[bool]string{true: "yes", false: "no"}[r.PendingOnly])
}
func (m *memberAPI) Reload(context.Context) error { return m.record("reload") }
func (m *memberAPI) Reinitialize(_ context.Context, force bool) error {
	return m.record("reinit force=" + map[bool]string{true: "yes", false: "no"}[force])
}
func (m *memberAPI) UpdateConfig(context.Context, func(*leaderelect.Config) error) (leaderelect.Config, error) {
	return leaderelect.Config{}, m.record("config")
}

type staticSource struct{ s api.Snapshot }

func (s staticSource) Snapshot() api.Snapshot { return s.s }

// serveMember starts m2's REST API with a token and republishes m2's
// heartbeat with its address.
func (f *fixture) serveMember(token string) *memberAPI {
	f.t.Helper()
	agent := &memberAPI{}
	cfg := api.DefaultConfig()
	cfg.Token = token
	srv, err := api.New(cfg, staticSource{api.Snapshot{Member: "m2", Cluster: "alpha", Now: time.Now()}}, agent, hclog.NewNullLogger())
	if err != nil {
		f.t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	f.t.Cleanup(ts.Close)
	f.publish(leaderelect.MemberStatus{Name: "m2", Role: leaderelect.RoleReplica, State: "running", APIURL: ts.URL + "/patroni"})
	return agent
}

func TestRestartAndReinit(t *testing.T) {
	f := newFixture(t)
	f.seed()
	agent := f.serveMember("tok")
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	_ = os.WriteFile(good, []byte("tok\n"), 0o600)
	_ = os.WriteFile(bad, []byte("nope\n"), 0o600)
	steps := []struct {
		args    []string
		code    int
		wantOut string
	}{
		{[]string{"restart", "alpha", "m2", "--pending", "--token-file", good, "--force"}, 0, "Success: restart on member m2 (restarted successfully)"},
		{[]string{"reinit", "alpha", "m2", "--token-file", good, "--force"}, 0, "Success: reinit on member m2 (reinitialize started)"},
		{[]string{"restart", "alpha", "m2", "--token-file", bad, "--force"}, 1, "Failed: restart for member m2: POST"},
		{[]string{"reinit", "alpha", "m2", "--force"}, 1, "(no API token found: pass --token-file"},
		{[]string{"restart", "alpha", "m9", "--token-file", good, "--force"}, 1, ""},
	}
	for _, s := range steps {
		code, out, errOut := f.run(s.args...)
		if code != s.code || !strings.Contains(out, s.wantOut) {
			t.Errorf("%v: exit %d, out %q, err %q; want %d and %q", s.args, code, out, errOut, s.code, s.wantOut)
		}
	}
	if diff := cmp.Diff([]string{"restart pending=yes", "reinit force=yes"}, agent.calls); diff != "" {
		t.Errorf("agent calls (-want +got):\n%s", diff)
	}
}
