package schedule

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tenure-pg/tenure/walarchive/storage/memstore"
)

func TestCollector(t *testing.T) {
	h := newHarness(t, Config{Schedule: hourly}, memstore.New(), testArchive)
	h.took = 90 * time.Second
	h.failNext = 1
	h.start()
	h.runUntil(at(11, 30)) // fails at 11:00, succeeds at 11:01
	if err := testutil.CollectAndCompare(h.r.Collector(), strings.NewReader(fmt.Sprintf(`
# HELP tenure_backup_failures_total Failed scheduled backup attempts, by stage (catalog, backup, retention).
# TYPE tenure_backup_failures_total counter
tenure_backup_failures_total{stage="backup"} 1
tenure_backup_failures_total{stage="catalog"} 0
tenure_backup_failures_total{stage="retention"} 0
# HELP tenure_backup_last_duration_seconds How long the newest completed base backup in the archive took.
# TYPE tenure_backup_last_duration_seconds gauge
tenure_backup_last_duration_seconds 90
# HELP tenure_backup_last_failure_timestamp_seconds When a scheduled backup attempt last failed (Unix time; 0 if never).
# TYPE tenure_backup_last_failure_timestamp_seconds gauge
tenure_backup_last_failure_timestamp_seconds %d
# HELP tenure_backup_last_success_timestamp_seconds When the newest completed base backup in the archive ended (Unix time; 0 if none seen).
# TYPE tenure_backup_last_success_timestamp_seconds gauge
tenure_backup_last_success_timestamp_seconds %d
# HELP tenure_backup_next_timestamp_seconds When the next scheduled base backup (or retry) is due (Unix time; 0 on a member not running the schedule).
# TYPE tenure_backup_next_timestamp_seconds gauge
tenure_backup_next_timestamp_seconds %d
# HELP tenure_backup_running 1 while a scheduled base backup is in progress on this member.
# TYPE tenure_backup_running gauge
tenure_backup_running 0
`, at(11, 0).Unix(), at(11, 2).Add(30*time.Second).Unix(), at(12, 0).Unix()))); err != nil {
		t.Error(err)
	}
}
