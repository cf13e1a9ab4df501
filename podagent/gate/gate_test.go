package gate_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/podagent/gate"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// gated starts a real PostgreSQL 15 whose commits wait for the gate, and
// a gate on it whose lease is fresh while the returned flag is set.
func gated(t *testing.T) (*testenv.Postgres, *gate.Gate, *atomic.Bool) {
	t.Helper()
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{
		ExtraConf: []string{`synchronous_standby_names = 'FIRST 1 ("` + gate.Name + `")'`},
	})
	var leading atomic.Bool
	g := gate.New(gate.Config{
		ConnString: pg.DSN("postgres"),
		Leading:    func(time.Time) bool { return leading.Load() },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return pg, g, &leading
}

func connect(t *testing.T, pg *testenv.Postgres) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), pg.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// commit runs one insert bounded by within and reports whether it was
// acknowledged.
func commit(conn *pgx.Conn, within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	_, err := conn.Exec(ctx, "INSERT INTO ledger VALUES (DEFAULT)")
	return err
}

func TestCommitsWaitForAFreshLease(t *testing.T) {
	pg, g, leading := gated(t)
	setup := connect(t, pg)
	leading.Store(true)
	if _, err := setup.Exec(context.Background(), "CREATE TABLE ledger (id serial PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if err := commit(setup, 5*time.Second); err != nil {
		t.Fatalf("commit with a fresh lease: %v", err)
	}
	if g.Acked() == 0 {
		t.Fatal("gate reports no confirmed position after a commit went through")
	}

	// Stale lease: the commit must not be acknowledged, however long it
	// waits.
	leading.Store(false)
	testenv.Eventually(t, 5*time.Second, "gate disconnected once the lease is stale", func() bool {
		return !gateConnected(t, setup)
	})
	blocked := connect(t, pg)
	result := make(chan error, 1)
	go func() { result <- commit(blocked, 30*time.Second) }()
	select {
	case err := <-result:
		t.Fatalf("commit returned with a stale lease (err %v): a zombie primary would acknowledge writes", err)
	case <-time.After(1500 * time.Millisecond):
	}

	// Fresh again: the waiting commit goes through.
	leading.Store(true)
	select {
	case err := <-result:
		if err != nil {
			t.Fatalf("waiting commit after the lease is fresh again: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waiting commit not released within 10 s of a fresh lease")
	}
}

func TestDisconnectLetsAFastShutdownFinish(t *testing.T) {
	pg, g, leading := gated(t)
	conn := connect(t, pg)
	leading.Store(true)
	testenv.Eventually(t, 5*time.Second, "gate connected", func() bool { return gateConnected(t, conn) })
	// A stale lease with the session still open (the agent thawing, say):
	// the gate must not be what a shutdown waits on.
	leading.Store(false)
	g.Disconnect()
	testenv.Eventually(t, 5*time.Second, "gate gone from pg_stat_replication", func() bool {
		return !gateConnected(t, conn)
	})
	start := time.Now()
	pg.Stop()
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("shutdown took %v with the gate disconnected", took)
	}
}

// TestStoppedGateConfirmsNothing: an agent killed while its postgres
// survives takes the gate's session with it; commits then wait.
func TestStoppedGateConfirmsNothing(t *testing.T) {
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{
		ExtraConf: []string{`synchronous_standby_names = 'FIRST 1 ("` + gate.Name + `")'`},
	})
	g := gate.New(gate.Config{ConnString: pg.DSN("postgres"), Leading: func(time.Time) bool { return true }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.Run(ctx); close(done) }()
	conn := connect(t, pg)
	if _, err := conn.Exec(context.Background(), "CREATE TABLE ledger (id serial PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	testenv.Eventually(t, 5*time.Second, "gate session gone", func() bool { return !gateConnected(t, conn) })
	if err := commit(connect(t, pg), 1500*time.Millisecond); err == nil {
		t.Fatal("commit acknowledged with the gate stopped")
	}
}

func gateConnected(t *testing.T, conn *pgx.Conn) bool {
	var n int
	err := conn.QueryRow(context.Background(),
		"SELECT count(*) FROM pg_stat_replication WHERE application_name = $1", gate.Name).Scan(&n)
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	return n > 0
}
