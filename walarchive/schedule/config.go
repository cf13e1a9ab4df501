package schedule

import (
	"errors"
	"fmt"

	"github.com/tenure-pg/tenure/walarchive/retention"
)

// Config is what to back up when, and what to keep.
type Config struct {
	// Schedule is a cron spec: five fields or a descriptor (see the
	// package doc), in UTC unless prefixed with CRON_TZ=<zone>.
	Schedule string
	// Immediate: while the catalogue holds no completed backup, take one
	// at once instead of at the first slot.
	Immediate bool
	// Retention, if set, is applied after every successful backup; nil
	// keeps everything.
	Retention *retention.Policy
	// Fast asks for an immediate checkpoint. The default, a spread
	// checkpoint, delays the start by up to checkpoint_timeout x
	// checkpoint_completion_target (4.5 min with PostgreSQL's defaults)
	// but spares the primary the I/O burst, which is what a nightly job
	// wants.
	Fast bool
	// MaxRateKB throttles the server's sending (kB/s, 32..1048576; 0 = off).
	MaxRateKB int
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if _, err := Parse(c.Schedule); err != nil {
		errs = append(errs, err)
	}
	if c.Retention != nil {
		if err := c.Retention.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("retention: %w", err))
		}
	}
	if c.MaxRateKB != 0 && (c.MaxRateKB < 32 || c.MaxRateKB > 1048576) {
		errs = append(errs, fmt.Errorf("max rate %d kB/s: want 32 to 1048576, or 0 for unlimited", c.MaxRateKB))
	}
	return errors.Join(errs...)
}
