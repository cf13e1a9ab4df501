package gate_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/podagent/gate"
)

// BenchmarkCommitGate is `make bench-gate`: the commit-latency cost of
// the gate. One real PostgreSQL 15 (synchronous_commit on, fsync on),
// single-row INSERT commits from 1 and 8 clients for 5 s each, with the
// gate listed in synchronous_standby_names and without it. Prints one
// RESULT line per configuration.
func BenchmarkCommitGate(b *testing.B) {
	for range b.N {
		for _, gated := range []bool{false, true} {
			for _, clients := range []int{1, 8} {
				p50, p99, tps := commitLatency(b, gated, clients, 5*time.Second)
				fmt.Printf("RESULT commit-gate gate=%v clients=%d p50_us=%d p99_us=%d commits_per_s=%.0f\n",
					gated, clients, p50.Microseconds(), p99.Microseconds(), tps)
			}
		}
	}
}

func commitLatency(b *testing.B, gated bool, clients int, window time.Duration) (p50, p99 time.Duration, tps float64) {
	opts := testenv.PostgresOptions{}
	if gated {
		opts.ExtraConf = []string{`synchronous_standby_names = 'FIRST 1 ("` + gate.Name + `")'`}
	}
	pg := testenv.StartPostgres(b, opts)
	defer pg.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if gated {
		g := gate.New(gate.Config{ConnString: pg.DSN("postgres"), Leading: func(time.Time) bool { return true }})
		go g.Run(ctx)
	}
	setup, err := pgx.Connect(ctx, pg.DSN("postgres"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := setup.Exec(ctx, "CREATE TABLE ledger (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())"); err != nil {
		b.Fatal(err)
	}
	setup.Close(ctx)
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	deadline := time.Now().Add(window)
	for range clients {
		wg.Go(func() {
			conn, err := pgx.Connect(ctx, pg.DSN("postgres"))
			if err != nil {
				b.Error(err)
				return
			}
			defer conn.Close(ctx)
			var mine []time.Duration
			for time.Now().Before(deadline) {
				start := time.Now()
				if _, err := conn.Exec(ctx, "INSERT INTO ledger DEFAULT VALUES"); err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(lat) == 0 {
		b.Fatal("no commits")
	}
	slices.Sort(lat)
	return lat[len(lat)/2], lat[len(lat)*99/100], float64(len(lat)) / window.Seconds()
}
