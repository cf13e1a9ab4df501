package schedule

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector exposes the Runner's Status as tenure_backup_* metrics. The
// one to alert on is the age of the last success,
// time() - tenure_backup_last_success_timestamp_seconds, taken as the max
// over the cluster's members: it comes from the catalogue, so it survives
// a failover, but only the member running the schedule reads the
// catalogue (the others report what they last saw, or 0).
func (r *Runner) Collector() prometheus.Collector { return &collector{r: r} }

var (
	descLastSuccess = prometheus.NewDesc("tenure_backup_last_success_timestamp_seconds",
		"When the newest completed base backup in the archive ended (Unix time; 0 if none seen).", nil, nil)
	descLastDuration = prometheus.NewDesc("tenure_backup_last_duration_seconds",
		"How long the newest completed base backup in the archive took.", nil, nil)
	descFailures = prometheus.NewDesc("tenure_backup_failures_total",
		"Failed scheduled backup attempts, by stage (catalog, backup, retention).", []string{"stage"}, nil)
	descLastFailure = prometheus.NewDesc("tenure_backup_last_failure_timestamp_seconds",
		"When a scheduled backup attempt last failed (Unix time; 0 if never).", nil, nil)
	descNext = prometheus.NewDesc("tenure_backup_next_timestamp_seconds",
		"When the next scheduled base backup (or retry) is due (Unix time; 0 on a member not running the schedule).", nil, nil)
	descRunning = prometheus.NewDesc("tenure_backup_running",
		"1 while a scheduled base backup is in progress on this member.", nil, nil)
)

type collector struct{ r *Runner }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLastSuccess, descLastDuration, descFailures, descLastFailure, descNext, descRunning} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.r.Status()
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	gauge(descLastSuccess, unixSeconds(s.LastSuccess))
	gauge(descLastDuration, s.LastDuration.Seconds())
	gauge(descLastFailure, unixSeconds(s.LastFailure))
	gauge(descNext, unixSeconds(s.Next))
	running := 0.0
	if s.Running {
		running = 1
	}
	gauge(descRunning, running)
	for _, st := range Stages {
		ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(s.Failures[st]), string(st))
	}
}

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
