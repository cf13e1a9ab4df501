package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/tenure-pg/tenure/internal/lsn"
	"github.com/tenure-pg/tenure/leaderelect"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const testToken = "s3cret-token"

// fakeSource returns a fixed snapshot, replaceable under a lock.
type fakeSource struct {
	mu   sync.Mutex
	snap Snapshot
}

func (f *fakeSource) Snapshot() Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap
}

func (f *fakeSource) set(s Snapshot) {
	f.mu.Lock()
	f.snap = s
	f.mu.Unlock()
}

// fakeCommands records calls and returns err (or calls hook) for each.
type fakeCommands struct {
	mu     sync.Mutex
	calls  []string
	err    error
	cfg    leaderelect.Config
	sw     []SwitchoverRequest
	rs     []RestartRequest
	forced []bool
}

func (f *fakeCommands) record(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
	return f.err
}

func (f *fakeCommands) Switchover(_ context.Context, r SwitchoverRequest) error {
	f.mu.Lock()
	f.sw = append(f.sw, r)
	f.mu.Unlock()
	return f.record("switchover")
}
func (f *fakeCommands) CancelSwitchover(context.Context) error { return f.record("cancel") }
func (f *fakeCommands) Restart(_ context.Context, r RestartRequest) error {
	f.mu.Lock()
	f.rs = append(f.rs, r)
	f.mu.Unlock()
	return f.record("restart")
}
func (f *fakeCommands) Reload(context.Context) error { return f.record("reload") }
func (f *fakeCommands) Reinitialize(_ context.Context, force bool) error {
	f.mu.Lock()
	f.forced = append(f.forced, force)
	f.mu.Unlock()
	return f.record("reinitialize")
}

// UpdateConfig runs fn twice on fresh copies, as a lost compare-and-swap
// would, so a patch that is not pure shows up; errors are wrapped as the
// Store wraps them.
func (f *fakeCommands) UpdateConfig(_ context.Context, fn func(*leaderelect.Config) error) (leaderelect.Config, error) {
	if err := f.record("config"); err != nil {
		return leaderelect.Config{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var next leaderelect.Config
	for range 2 {
		next = cloneConfig(f.cfg)
		if err := fn(&next); err != nil {
			return f.cfg, fmt.Errorf("update cluster alpha: %w", err)
		}
	}
	f.cfg = next
	return next, nil
}

func (f *fakeCommands) callNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func cloneConfig(c leaderelect.Config) leaderelect.Config {
	if c.Parameters != nil {
		p := make(map[string]string, len(c.Parameters))
		for k, v := range c.Parameters {
			p[k] = v
		}
		c.Parameters = p
	}
	return c
}

// member builds a heartbeat.
func member(name string, role leaderelect.Role, state string, received, replayed, flushed uint64, tags leaderelect.Tags) leaderelect.MemberView {
	return leaderelect.MemberView{MemberStatus: leaderelect.MemberStatus{
		Name: name, Role: role, State: state, Timeline: 2,
		ReceivedLSN: received, ReplayedLSN: replayed, FlushedLSN: flushed,
		APIURL:  "http://10.0.0." + name[1:] + ":8008/patroni",
		ConnURL: "postgres://10.0.0." + name[1:] + ":5432/postgres",
		Tags:    tags,
	}}
}

// view is a three-member cluster led by m1 at 0x5000000, m2 a sync standby
// 16 MiB behind, m3 a nofailover replica.
func view(self string) leaderelect.ClusterView {
	return leaderelect.ClusterView{
		Cluster: "alpha",
		Self:    self,
		Lock: leaderelect.LockView{
			Lock:   leaderelect.Lock{Holder: "m1", TTL: 10 * time.Second, Epoch: 3},
			Exists: true, ObservedAt: t0,
		},
		Members: map[string]leaderelect.MemberView{
			"m1": member("m1", leaderelect.RolePrimary, "running", 0, 0, 0x5000000, leaderelect.Tags{}),
			"m2": member("m2", leaderelect.RoleReplica, "running", 0x4000000, 0x4000000, 0, leaderelect.Tags{}),
			"m3": member("m3", leaderelect.RoleReplica, "running", 0x4F00000, 0x4F00000, 0, leaderelect.Tags{NoFailover: true}),
		},
		State: leaderelect.State{
			Config:     leaderelect.Config{TTLSeconds: 10, LoopWaitSeconds: 5, SynchronousMode: "on"},
			Initialize: "7268616322854375442",
			Sync:       leaderelect.SyncState{Leader: "m1", Members: []string{"m2"}},
			History: []leaderelect.HistoryEntry{
				{Timeline: 1, LSN: 0x3000000, Reason: "no recovery target specified", At: t0.Add(-time.Hour), Leader: "m1"},
			},
		},
		StateExists: true,
	}
}

// primarySnap is m1 running as the leading primary.
func primarySnap() Snapshot {
	return Snapshot{
		Member: "m1", Cluster: "alpha", Role: leaderelect.RolePrimary, State: StateRunning, Leading: true,
		Postgres: PostgresInfo{
			Running: true, Timeline: 2, FlushedLSN: 0x5000000, ServerVersion: 150004,
			PostmasterStart: t0.Add(-time.Hour), SystemID: "7268616322854375442",
			Replication: []ReplicationInfo{{Name: "m2", User: "replicator", State: "streaming", SyncState: "sync", SyncPriority: 1, ClientAddr: "10.0.0.2"}},
		},
		View: view("m1"), LoopAt: t0.Add(-time.Second), DCSLastSeen: t0, Now: t0, TTL: 10 * time.Second,
	}
}

// replicaSnap is m2, a streaming sync standby replayed to 0x4000000 (16
// MiB behind m1's published 0x5000000).
func replicaSnap() Snapshot {
	return Snapshot{
		Member: "m2", Cluster: "alpha", Role: leaderelect.RoleReplica, State: StateRunning,
		Postgres: PostgresInfo{
			Running: true, Timeline: 2, ReceivedLSN: 0x4000000, ReplayedLSN: 0x4000000,
			ServerVersion: 150004, PostmasterStart: t0.Add(-time.Hour), ReceiverState: "streaming",
			SystemID: "7268616322854375442",
		},
		View: view("m2"), LoopAt: t0.Add(-time.Second), Now: t0, TTL: 10 * time.Second,
	}
}

// replicaAt is replicaSnap with replay (and receipt) at pos.
func replicaAt(pos lsn.LSN) Snapshot {
	s := replicaSnap()
	s.Postgres.ReceivedLSN, s.Postgres.ReplayedLSN = pos, pos
	return s
}

// newTestServer serves src and cmds with a token configured.
func newTestServer(t *testing.T, snap Snapshot) (*httptest.Server, *fakeSource, *fakeCommands) {
	t.Helper()
	src := &fakeSource{snap: snap}
	cmds := &fakeCommands{}
	cfg := DefaultConfig()
	cfg.Token = testToken
	cfg.CommandTimeout = 5 * time.Second
	cfg.WriteTimeout = 10 * time.Second
	srv, err := New(cfg, src, cmds, hclog.NewNullLogger())
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, src, cmds
}

// call sends one request and returns the status code and body.
func call(t *testing.T, ts *httptest.Server, method, path, token, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, string(b)
}
