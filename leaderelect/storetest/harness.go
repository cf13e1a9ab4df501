package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/leaderelect"
)

// Member is one member's connection to a cluster's backend, with the
// faults a test can inject into it.
type Member interface {
	leaderelect.Backend
	// LoseNextWrite makes the next write land but fail as if it timed out.
	LoseNextWrite()
	// Writes counts the write requests sent through this connection.
	Writes() int64
	// Cut partitions this member alone from the API (true) or heals it.
	Cut(on bool)
}

// Cluster is a fresh, empty cluster private to one test.
type Cluster interface {
	// Member returns a new connection for the named member.
	Member(t *testing.T, name string) Member
	// Forbidden returns a connection whose identity has no rights.
	Forbidden(t *testing.T, name string) leaderelect.Backend
}

// Harness makes clusters for the suite.
type Harness struct {
	// NewCluster returns a fresh cluster; tests using it may run in
	// parallel.
	NewCluster func(t *testing.T) Cluster
	// NewOutageCluster returns a fresh cluster on an API of its own, and a
	// function that takes that whole API down (true) or brings it back.
	NewOutageCluster func(t *testing.T) (Cluster, func(down bool))
}

// t0 is a whole second, so that times survive the Lease's microsecond
// fields unchanged.
var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const cluster = "alpha"

type member struct {
	name  string
	conn  Member
	clock *clocktesting.FakePassiveClock
	store *leaderelect.Store
}

// start opens a Store for name in c with a fake clock skewed by skew.
func start(t *testing.T, c Cluster, name string, skew time.Duration) *member {
	t.Helper()
	m := &member{name: name, conn: c.Member(t, name), clock: clocktesting.NewFakePassiveClock(t0.Add(skew))}
	opts := leaderelect.Default(cluster, name)
	opts.Clock = m.clock
	s, err := leaderelect.New(context.Background(), m.conn, opts)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(s.Close)
	m.store = s
	return m
}

func (m *member) advance(d time.Duration) { m.clock.SetTime(m.clock.Now().Add(d)) }

func (m *member) view() leaderelect.ClusterView { return m.store.View() }

// eventually polls cond until it holds or 15 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, 15*time.Second, what, cond)
}

func mustErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

var ctx = context.Background()
