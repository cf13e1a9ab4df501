package podagent

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/ha"
	"github.com/tenure-pg/tenure/podagent/pgconf"
	"github.com/tenure-pg/tenure/podagent/pgctl"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestObserveShuttingDownPrimary forces the race of issue 13, item 3 on a
// real PostgreSQL 15: a primary whose shutdown is under way (held open
// here by a client session during a smart shutdown, as the guard's stop is
// in flight) still runs but refuses the status query. The observation must
// say so, with WasPrimary from the control data, and the decision must not
// start it as a replica (which skipped pg_rewind of a diverged former
// primary).
func TestObserveShuttingDownPrimary(t *testing.T) {
	if testing.Short() {
		t.Skip("real PostgreSQL: not a -short test")
	}
	bin := os.Getenv("TENURE_PG_BIN")
	if bin == "" {
		bin = pgctl.DefaultBinDir
	}
	if _, err := os.Stat(filepath.Join(bin, "postgres")); err != nil {
		testenv.Missing(t, "PostgreSQL 15 not installed", "install postgresql-15 or set TENURE_PG_BIN")
	}
	dir := testenv.OwnedDir(t)
	addr := testenv.NewLoopbackAddr()
	port := testenv.FreePort(t, addr)
	pg, err := pgctl.New(pgctl.Config{BinDir: bin, DataDir: filepath.Join(dir, "data"), SocketDir: dir, Port: port,
		Credential: testenv.ServerCredential(t), Log: hclog.NewNullLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t.Cleanup(func() { _ = pg.Stop(ctx, pgctl.Immediate) })
	if err := pg.InitDB(ctx, pgctl.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pgconf.Apply(pg.DataDir(), pgconf.Member{ListenAddresses: addr, Port: port, SocketDir: dir, TrustLoopback: true}); err != nil {
		t.Fatal(err)
	}
	if err := pg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	client, err := pgx.Connect(ctx, "host="+addr+" port="+strconv.Itoa(port)+" user=postgres dbname=postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close(ctx)

	a := &Agent{cfg: Config{DataDir: pg.DataDir(), Member: "b"}, pg: pg, log: hclog.NewNullLogger()}
	v := leaderelect.ClusterView{Self: "b", Lock: leaderelect.LockView{Lock: leaderelect.Lock{Holder: "a", TTL: 10 * time.Second}, Exists: true}}
	if p := a.observePostgres(ctx, v); !p.Running || p.InRecovery || p.Unresponsive {
		t.Fatalf("running primary observed as %+v", p)
	}

	stopped := make(chan error, 1)
	go func() { stopped <- pg.Stop(ctx, pgctl.Smart) }() // waits for the client session
	var p ha.Postgres
	testenv.Eventually(t, 10*time.Second, "status query refused during the shutdown", func() bool {
		p = a.observePostgres(ctx, v)
		return p.Unresponsive
	})
	if p.Running || !p.WasPrimary || p.Dir != ha.DirInitialized {
		t.Fatalf("shutting-down primary observed as %+v: want not Running, Unresponsive, WasPrimary (control data)", p)
	}
	o := ha.Observation{Now: time.Now(), Self: "b", View: v, Postgres: p,
		Settings: ha.Settings{TTL: 10 * time.Second, RenewDeadline: 7 * time.Second, RetryPeriod: 5 * time.Second}}
	o.View.Lock.ObservedAt = o.Now
	if d := ha.Decide(o); len(d.Actions) != 1 || d.Actions[0].Kind != ha.Wait {
		t.Fatalf("decision on a shutting-down former primary = %q %v, want wait", d.Reason, d.Kinds())
	}

	client.Close(ctx)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	p = a.observePostgres(ctx, v)
	o.Postgres = p
	if d := ha.Decide(o); !p.WasPrimary || len(d.Actions) == 0 || d.Actions[0].Kind != ha.Rewind {
		t.Fatalf("stopped former primary %+v decided %q %v, want rewind", p, d.Reason, d.Kinds())
	}
}
