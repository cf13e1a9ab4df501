package pgctl

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/tenure-pg/tenure/internal/lsn"
)

// Cluster states as pg_controldata prints them ("Database cluster state").
const (
	StateShutDown           = "shut down"
	StateShutDownInRecovery = "shut down in recovery"
	StateInProduction       = "in production"
	StateInArchiveRecovery  = "in archive recovery"
	StateInCrashRecovery    = "in crash recovery"
	StateShuttingDown       = "shutting down"
)

// Controldata is what pg_control says about a stopped (or running)
// cluster.
type Controldata struct {
	SystemID string // "Database system identifier", decimal
	State    string // raw, e.g. StateInProduction
	// Timeline is the latest checkpoint's TimeLineID. After a promotion it
	// names the old timeline until the new one's first checkpoint
	// finishes (seen here: a primary killed 0.2 s after promotion to
	// timeline 2 still says 1); MinRecoveryEndTimeline or the running
	// server's Status is the better witness then.
	Timeline      uint32
	CheckpointLSN lsn.LSN
	RedoLSN       lsn.LSN
	// MinRecoveryEndLSN and its timeline are where a standby must replay
	// to before it is consistent; zero on a primary.
	MinRecoveryEndLSN      lsn.LSN
	MinRecoveryEndTimeline uint32
	DataChecksums          bool
}

// CleanShutdown reports whether the cluster was shut down cleanly (as a
// primary or as a standby), which pg_rewind requires of its target.
func (c Controldata) CleanShutdown() bool {
	return c.State == StateShutDown || c.State == StateShutDownInRecovery
}

// Controldata runs pg_controldata on the data directory.
func (in *Instance) Controldata(ctx context.Context) (Controldata, error) {
	out, err := in.runTool(ctx, "pg_controldata", "-D", in.cfg.DataDir)
	if err != nil {
		return Controldata{}, fmt.Errorf("controldata %s: %w", in.cfg.DataDir, err)
	}
	cd, err := ParseControldata(out)
	if err != nil {
		return Controldata{}, fmt.Errorf("controldata %s: %w", in.cfg.DataDir, err)
	}
	return cd, nil
}

// controldataField is one line of pg_controldata output Controldata reads.
type controldataField struct {
	key   string
	parse func(*Controldata, string) error
}

var controldataFields = []controldataField{
	{"Database system identifier", func(c *Controldata, v string) error {
		_, err := strconv.ParseUint(v, 10, 64)
		c.SystemID = v
		return err
	}},
	{"Database cluster state", func(c *Controldata, v string) error {
		if c.State = v; v == "" {
			return fmt.Errorf("empty")
		}
		return nil
	}},
	{"Latest checkpoint location", lsnField(func(c *Controldata) *lsn.LSN { return &c.CheckpointLSN })},
	{"Latest checkpoint's REDO location", lsnField(func(c *Controldata) *lsn.LSN { return &c.RedoLSN })},
	{"Latest checkpoint's TimeLineID", tliField(func(c *Controldata) *uint32 { return &c.Timeline })},
	{"Minimum recovery ending location", lsnField(func(c *Controldata) *lsn.LSN { return &c.MinRecoveryEndLSN })},
	{"Min recovery ending loc's timeline", tliField(func(c *Controldata) *uint32 { return &c.MinRecoveryEndTimeline })},
	{"Data page checksum version", func(c *Controldata, v string) error {
		n, err := strconv.ParseUint(v, 10, 32)
		c.DataChecksums = n != 0
		return err
	}},
}

func lsnField(field func(*Controldata) *lsn.LSN) func(*Controldata, string) error {
	return func(c *Controldata, v string) (err error) {
		*field(c), err = lsn.Parse(v)
		return err
	}
}

func tliField(field func(*Controldata) *uint32) func(*Controldata, string) error {
	return func(c *Controldata, v string) error {
		n, err := strconv.ParseUint(v, 10, 32)
		*field(c) = uint32(n)
		return err
	}
}

// ParseControldata reads pg_controldata output (run with LC_ALL=C). Every
// field of Controldata must be present and well-formed.
func ParseControldata(out string) (Controldata, error) {
	values := make(map[string]string)
	for line := range strings.Lines(out) {
		key, value, ok := strings.Cut(line, ":")
		if ok {
			values[strings.TrimSpace(key)] = strings.TrimSpace(value)
		}
	}
	var c Controldata
	for _, f := range controldataFields {
		v, ok := values[f.key]
		if !ok {
			return Controldata{}, fmt.Errorf("parse pg_controldata output: no %q line", f.key)
		}
		if err := f.parse(&c, v); err != nil {
			return Controldata{}, fmt.Errorf("parse pg_controldata output: %s %q: %w", f.key, v, err)
		}
	}
	return c, nil
}
