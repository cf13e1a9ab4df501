package walsvc

import "github.com/prometheus/client_golang/prometheus"

// metrics are one server's; Server.Collector hands them to a registry.
// They are not registered globally so tests and several servers in one
// process do not collide.
type metrics struct {
	queueDepth     prometheus.Gauge
	inFlight       prometheus.Gauge
	uploads        *prometheus.CounterVec
	prefetchHits   prometheus.Counter
	prefetchMisses prometheus.Counter
	prefetches     *prometheus.CounterVec
	requests       *prometheus.CounterVec
}

func newMetrics() *metrics {
	const ns, sub = "tenure", "walsvc"
	return &metrics{
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "push_queue_depth", Help: "Ready WAL files queued for upload and not yet started."}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "push_in_flight", Help: "WAL uploads running now."}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "push_uploads_total", Help: "Finished WAL uploads by result (ok, error)."}, []string{"result"}),
		prefetchHits: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "prefetch_hits_total", Help: "Segment fetches served from the prefetch spool."}),
		prefetchMisses: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "prefetch_misses_total", Help: "Segment fetches that had to go to the archive."}),
		prefetches: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "prefetch_downloads_total", Help: "Prefetch downloads by result (ok, absent, error)."}, []string{"result"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "requests_total", Help: "Requests answered, by op (push, fetch, invalid) and reply code."}, []string{"op", "code"}),
	}
}

func (m *metrics) all() []prometheus.Collector {
	return []prometheus.Collector{m.queueDepth, m.inFlight, m.uploads, m.prefetchHits, m.prefetchMisses, m.prefetches, m.requests}
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.all() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.all() {
		c.Collect(ch)
	}
}
