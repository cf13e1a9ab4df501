package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/leaderelect/memstore"
)

// fixture is a cluster "alpha" on an in-memory store, with member stores
// the test plays the agents through, and an env whose Store is a
// memstore client.
type fixture struct {
	t       *testing.T
	api     *memstore.API
	now     time.Time
	stores  map[string]*leaderelect.Store
	env     env
	envVars map[string]string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, api: memstore.NewAPI(), now: time.Now().Truncate(time.Second), stores: map[string]*leaderelect.Store{}, envVars: map[string]string{}}
	f.env = env{
		getenv: func(k string) string { return f.envVars[k] },
		stdin:  strings.NewReader(""),
		now:    func() time.Time { return f.now },
		open: func(ctx context.Context, _ *env, tg target) (*leaderelect.Store, error) {
			return leaderelect.New(ctx, f.api.Client(tg.cluster, observer), leaderelect.Default(tg.cluster, observer))
		},
		withdrawGrace: 300 * time.Millisecond,
		poll:          20 * time.Millisecond,
	}
	return f
}

// store returns the Store of member name, opening it on first use.
func (f *fixture) store(name string) *leaderelect.Store {
	f.t.Helper()
	if s, ok := f.stores[name]; ok {
		return s
	}
	s, err := leaderelect.New(context.Background(), f.api.Client("alpha", name), leaderelect.Default("alpha", name))
	if err != nil {
		f.t.Fatalf("open store of %s: %v", name, err)
	}
	f.t.Cleanup(s.Close)
	f.stores[name] = s
	return s
}

func (f *fixture) publish(st leaderelect.MemberStatus) {
	f.t.Helper()
	if _, err := f.store(st.Name).PublishStatus(context.Background(), st); err != nil {
		f.t.Fatalf("publish %s: %v", st.Name, err)
	}
}

func (f *fixture) update(fn func(*leaderelect.State) error) {
	f.t.Helper()
	if _, err := f.store("m1").Update(context.Background(), fn); err != nil {
		f.t.Fatalf("update state: %v", err)
	}
}

// state reads the cluster record as a fresh observer sees it.
func (f *fixture) state() leaderelect.State {
	f.t.Helper()
	s, err := leaderelect.New(context.Background(), f.api.Client("alpha", "probe"), leaderelect.Default("alpha", "probe"))
	if err != nil {
		f.t.Fatalf("open probe store: %v", err)
	}
	defer s.Close()
	return s.View().State
}

// seed builds the standard cluster: m1 leading primary, m2 its sync
// standby 16 MiB behind, m3 a nofailover replica 1 MiB behind; synchronous
// mode on; one history entry.
func (f *fixture) seed() {
	f.t.Helper()
	conn := func(n string) string { return "postgres://10.0.0." + n + ":5432/postgres" }
	api := func(n string) string { return "http://10.0.0." + n + ":8008/patroni" }
	f.publish(leaderelect.MemberStatus{Name: "m1", Role: leaderelect.RolePrimary, State: "running", Timeline: 2, FlushedLSN: 0x5000000, ConnURL: conn("1"), APIURL: api("1")})
	if _, err := f.store("m1").TryAcquire(context.Background()); err != nil {
		f.t.Fatalf("m1 acquire: %v", err)
	}
	f.publish(leaderelect.MemberStatus{Name: "m2", Role: leaderelect.RoleReplica, State: "running", Timeline: 2, ReceivedLSN: 0x4000000, ReplayedLSN: 0x4000000, ConnURL: conn("2"), APIURL: api("2"), PendingRestart: true})
	f.publish(leaderelect.MemberStatus{Name: "m3", Role: leaderelect.RoleReplica, State: "running", Timeline: 2, ReceivedLSN: 0x4F00000, ReplayedLSN: 0x4F00000, ConnURL: "postgres://10.0.0.3:5433/postgres", APIURL: api("3"), Tags: leaderelect.Tags{NoFailover: true}})
	f.update(func(s *leaderelect.State) error {
		s.Initialize = "7268616322854375442"
		s.Config = leaderelect.Config{TTLSeconds: 30, LoopWaitSeconds: 10, SynchronousMode: "on", Parameters: map[string]string{"max_connections": "100"}}
		s.Sync = leaderelect.SyncState{Leader: "m1", Members: []string{"m2"}}
		s.History = []leaderelect.HistoryEntry{{Timeline: 1, LSN: 0x3000060, Reason: "no recovery target specified", At: time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC), Leader: "m1"}}
		return nil
	})
}

// run runs the CLI and returns its exit code, stdout and stderr.
func (f *fixture) run(args ...string) (int, string, string) {
	f.t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), "tenure", args, &out, &errOut, f.env)
	return code, out.String(), errOut.String()
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, what, cond)
}
