package kubestore_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"k8s.io/client-go/kubernetes"

	"github.com/tenure-pg/tenure/internal/apicount"
	"github.com/tenure-pg/tenure/internal/dcsdemo"
	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/leaderelect/kubestore"
)

// BenchmarkIdleCluster measures the API load of an idle 3-member cluster
// at the default timings against a real apiserver, after the leader is
// elected and every member has published (TENURE_BENCH_DURATION, default
// 60s). Run it with `make bench-dcs`; it prints one RESULT line.
func BenchmarkIdleCluster(b *testing.B) {
	window := 60 * time.Second
	if d, err := time.ParseDuration(os.Getenv("TENURE_BENCH_DURATION")); err == nil && d > 0 {
		window = d
	}
	k := testenv.StartKube(b)
	ns := k.Namespace(b)
	for range b.N {
		var count apicount.Counter
		cfg := k.AdminConfig()
		cfg.Wrap(count.Wrap)
		client, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		names := []string{"idle-0", "idle-1", "idle-2"}
		stores := make([]*leaderelect.Store, len(names))
		for i, name := range names {
			be, err := kubestore.New(client, kubestore.Config{Namespace: ns, Cluster: "idle", Member: name})
			if err != nil {
				b.Fatal(err)
			}
			if stores[i], err = leaderelect.New(ctx, be, leaderelect.Default("idle", name)); err != nil {
				b.Fatal(err)
			}
			c := &dcsdemo.Contender{Store: stores[i], Log: hclog.NewNullLogger()}
			wg.Go(func() { c.Run(ctx) })
		}
		settled := func() bool {
			v := stores[0].View()
			return v.Lock.Holder != "" && len(v.Members) == len(names)
		}
		for deadline := time.Now().Add(30 * time.Second); !settled(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatal("cluster did not settle in 30s")
			}
		}
		w0, r0, began := count.Writes(), count.Reads(), time.Now()
		b.ResetTimer()
		time.Sleep(window) // the measurement window itself, not synchronisation
		b.StopTimer()
		secs := time.Since(began).Seconds()
		writes, reads := float64(count.Writes()-w0)/secs, float64(count.Reads()-r0)/secs
		cancel()
		wg.Wait()
		for _, s := range stores {
			s.Close()
		}
		b.ReportMetric(writes, "writes/s")
		b.ReportMetric(reads, "reads/s")
		fmt.Printf("RESULT dcs-idle writes_per_s=%.3f reads_per_s=%.3f members=%d window_s=%.0f\n", writes, reads, len(names), secs)
	}
}
