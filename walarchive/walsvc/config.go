package walsvc

import (
	"errors"
	"fmt"
	"time"

	"github.com/tenure-pg/tenure/walarchive/walname"
)

// Config tunes the service. Start from Default and set DataDir.
type Config struct {
	// DataDir is the PostgreSQL data directory the service serves: the
	// socket, the archive_status directory it looks ahead in and the
	// prefetch spool all live under DataDir/pg_wal.
	DataDir string
	// Concurrency bounds parallel uploads, and separately parallel
	// prefetch downloads. See DefaultConcurrency.
	Concurrency int
	// Prefetch is how many segments after a fetched one are downloaded
	// ahead into the spool; 0 turns prefetching off. The spool never holds
	// more than Prefetch+Concurrency segments.
	Prefetch int
	// SegmentSize is the cluster's wal_segment_size, needed to name "the
	// next segment". Zero means 16 MiB.
	SegmentSize walname.Size
	// Timeout bounds one upload or prefetch download. A hung upload
	// otherwise holds up archiving, and with it WAL recycling, forever; a
	// hung download holds a prefetch slot.
	Timeout time.Duration
	// SpoolIdle: spooled segments are deleted once no fetch has asked for
	// anything this long (recovery ended or moved to streaming), so a
	// promoted replica does not keep Prefetch segments in pg_wal.
	SpoolIdle time.Duration
}

// DefaultConcurrency was chosen by BenchmarkWALPush against a real S3
// server on a 2-core machine (see doc.go for the numbers): 4 parallel
// uploads drained a backlog 1.3-2x faster than 1, and 8 added only
// per-segment latency.
const DefaultConcurrency = 4

// DefaultPrefetch: 8 segments (128 MiB at the default segment size) hide
// one round trip per segment during replay, like WAL-G's default
// WALG_DOWNLOAD_CONCURRENCY prefetch of 10 or pgBackRest's archive-get
// queue; more only costs disk in pg_wal.
const DefaultPrefetch = 8

// Default returns the defaults; DataDir is left empty.
func Default() Config {
	return Config{
		Concurrency: DefaultConcurrency,
		Prefetch:    DefaultPrefetch,
		SegmentSize: walname.DefaultSize,
		Timeout:     10 * time.Minute,
		SpoolIdle:   5 * time.Minute,
	}
}

// errConfig is wrapped by every Validate failure.
var errConfig = errors.New("invalid wal service config")

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.DataDir == "":
		return fmt.Errorf("%w: DataDir is empty", errConfig)
	case c.Concurrency < 1 || c.Concurrency > 64:
		return fmt.Errorf("%w: Concurrency %d, want 1..64", errConfig, c.Concurrency)
	case c.Prefetch < 0 || c.Prefetch > 256:
		return fmt.Errorf("%w: Prefetch %d, want 0..256", errConfig, c.Prefetch)
	case c.Timeout <= 0:
		return fmt.Errorf("%w: Timeout %v, want > 0", errConfig, c.Timeout)
	case c.SpoolIdle <= 0:
		return fmt.Errorf("%w: SpoolIdle %v, want > 0", errConfig, c.SpoolIdle)
	}
	if err := c.SegmentSize.Validate(); err != nil {
		return fmt.Errorf("%w: %w", errConfig, err)
	}
	return nil
}
