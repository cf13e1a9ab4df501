package wal

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector exposes the Archiver's Status as tenure_wal_* metrics, plus
// the number of files in walDir/archive_status waiting for archiving
// (.ready), counted at each scrape. That backlog is the number to alert
// on: it grows while archiving fails or falls behind, and pg_wal grows
// with it until the disk is full. walDir is the cluster's pg_wal.
func (a *Archiver) Collector(walDir string) prometheus.Collector {
	return &collector{a: a, statusDir: filepath.Join(walDir, "archive_status")}
}

var (
	descArchived = prometheus.NewDesc("tenure_wal_archived_total",
		"WAL files archived (segments, partial, history and backup history files).", nil, nil)
	descFailures = prometheus.NewDesc("tenure_wal_archive_failures_total",
		"Failed attempts to archive a WAL file.", nil, nil)
	descLastArchived = prometheus.NewDesc("tenure_wal_last_archived_timestamp_seconds",
		"When the last WAL file was archived (Unix time; 0 if none yet).", nil, nil)
	descLastFailure = prometheus.NewDesc("tenure_wal_last_archive_failure_timestamp_seconds",
		"When archiving last failed (Unix time; 0 if never).", nil, nil)
	descReady = prometheus.NewDesc("tenure_wal_archive_ready_files",
		"WAL files postgres has marked ready and not yet seen archived (.ready in archive_status).", nil, nil)
	descBytes = prometheus.NewDesc("tenure_wal_archived_bytes_total",
		"Bytes of WAL archived: plain is what postgres wrote, stored what was uploaded after compression and encryption.",
		[]string{"form"}, nil)
	descFetched = prometheus.NewDesc("tenure_wal_fetched_total",
		"WAL files restored from the archive.", nil, nil)
	descFetchFailures = prometheus.NewDesc("tenure_wal_fetch_failures_total",
		"Failed restores of archived WAL files (missing files not counted).", nil, nil)
)

type collector struct {
	a         *Archiver
	statusDir string
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descArchived, descFailures, descLastArchived, descLastFailure, descReady,
		descBytes, descFetched, descFetchFailures} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.a.Status()
	ch <- prometheus.MustNewConstMetric(descArchived, prometheus.CounterValue, float64(s.Archived))
	ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(s.Failed))
	ch <- prometheus.MustNewConstMetric(descLastArchived, prometheus.GaugeValue, unixSeconds(s.LastArchivedAt))
	ch <- prometheus.MustNewConstMetric(descLastFailure, prometheus.GaugeValue, unixSeconds(s.LastFailedAt))
	ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(s.ArchivedBytes), "plain")
	ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(s.StoredBytes), "stored")
	ch <- prometheus.MustNewConstMetric(descFetched, prometheus.CounterValue, float64(s.Fetched))
	ch <- prometheus.MustNewConstMetric(descFetchFailures, prometheus.CounterValue, float64(s.FetchFailed))
	if n, err := ReadyFiles(c.statusDir); err == nil {
		ch <- prometheus.MustNewConstMetric(descReady, prometheus.GaugeValue, float64(n))
	} else {
		ch <- prometheus.NewInvalidMetric(descReady, err)
	}
}

// ReadyFiles counts the .ready files in archive_status (dir): WAL files
// postgres waits to see archived.
func ReadyFiles(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".ready") {
			n++
		}
	}
	return n, nil
}
