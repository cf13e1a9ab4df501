package api

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tenure-pg/tenure/leaderelect"
)

// metric is one series computed from a Snapshot at scrape time.
type metric struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(s Snapshot) float64
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// labels every series carries: Patroni's scope (cluster) and name (member).
var labels = []string{"scope", "name"}

func gauge(name, help string, value func(s Snapshot) float64) metric {
	return metric{desc: prometheus.NewDesc(name, help, labels, nil), kind: prometheus.GaugeValue, value: value}
}

// snapshotMetrics are Patroni's /metrics series under the tenure_ prefix.
var snapshotMetrics = []metric{
	gauge("tenure_postgres_running", "1 if postgres is running.", func(s Snapshot) float64 { return b2f(s.Postgres.Running) }),
	gauge("tenure_primary", "1 if postgres runs as a primary.", func(s Snapshot) float64 { return b2f(s.Role == leaderelect.RolePrimary) }),
	gauge("tenure_replica", "1 if postgres runs as a replica.", func(s Snapshot) float64 { return b2f(s.Role == leaderelect.RoleReplica) }),
	gauge("tenure_sync_standby", "1 if this member is in the published synchronous set.", func(s Snapshot) float64 { return b2f(isSyncStandby(s)) }),
	gauge("tenure_leading", "1 if this member holds a fresh leader lease.", func(s Snapshot) float64 { return b2f(s.Leading) }),
	gauge("tenure_timeline", "Postgres timeline.", func(s Snapshot) float64 { return float64(s.Postgres.Timeline) }),
	gauge("tenure_xlog_location_bytes", "Flushed WAL position on a primary, 0 on a replica.", func(s Snapshot) float64 {
		if s.Role != leaderelect.RolePrimary {
			return 0
		}
		return float64(s.Postgres.FlushedLSN)
	}),
	gauge("tenure_xlog_received_location_bytes", "Received WAL position on a replica.", func(s Snapshot) float64 { return float64(s.Postgres.ReceivedLSN) }),
	gauge("tenure_xlog_replayed_location_bytes", "Replayed WAL position on a replica.", func(s Snapshot) float64 { return float64(s.Postgres.ReplayedLSN) }),
	gauge("tenure_replication_lag_bytes", "Bytes the replica's replay is behind the leader's published position; 0 on a primary or when unknown.", func(s Snapshot) float64 {
		if s.Role != leaderelect.RoleReplica {
			return 0
		}
		return float64(replayLag(s))
	}),
	gauge("tenure_pending_restart", "1 if postgres needs a restart for a setting to take effect.", func(s Snapshot) float64 { return b2f(s.Postgres.PendingRestart) }),
	gauge("tenure_cluster_unlocked", "1 if nobody holds the leader lock.", func(s Snapshot) float64 { return b2f(s.View.Lock.Holder == "") }),
	gauge("tenure_lease_epoch", "Leader lease epoch (changes of holder) as observed here.", func(s Snapshot) float64 { return float64(s.View.Lock.Epoch) }),
	gauge("tenure_is_paused", "1 in maintenance mode (automatic failover off).", func(s Snapshot) float64 { return b2f(s.Paused) }),
	gauge("tenure_postmaster_start_time_seconds", "Unix time postgres started, 0 if not running.", func(s Snapshot) float64 {
		if s.Postgres.PostmasterStart.IsZero() {
			return 0
		}
		return float64(s.Postgres.PostmasterStart.UnixNano()) / 1e9
	}),
	gauge("tenure_ha_loop_age_seconds", "Seconds since the HA loop last completed.", func(s Snapshot) float64 {
		if s.LoopAt.IsZero() {
			return 0
		}
		return loopAge(s).Seconds()
	}),
}

// collector reads one Snapshot per scrape, so every series of a scrape
// describes the same moment and nothing is kept between scrapes.
type collector struct{ src Source }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range snapshotMetrics {
		ch <- m.desc
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Snapshot()
	for _, m := range snapshotMetrics {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(s), s.Cluster, s.Member)
	}
}

// metricsHandler serves /metrics from a registry of its own (never the
// global one, so tests and several servers in one process do not collide):
// the snapshot series plus the Go runtime and process collectors.
func metricsHandler(src Source, extra ...prometheus.Collector) (http.Handler, error) {
	reg := prometheus.NewRegistry()
	for _, c := range append([]prometheus.Collector{
		collector{src: src},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}, extra...) {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), nil
}
