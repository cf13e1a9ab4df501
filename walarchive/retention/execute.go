package retention

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/tenure-pg/tenure/walarchive/catalog"
	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/storage"
)

// Observe lists what Decide needs; the caller sets Now and Policy.
func Observe(ctx context.Context, st storage.Store, arch layout.Archive) (Observation, error) {
	list, err := catalog.List(ctx, st, arch)
	if err != nil {
		return Observation{}, err
	}
	wal, err := catalog.ListWAL(ctx, st, arch)
	if err != nil {
		return Observation{}, err
	}
	o := Observation{Backups: list.Complete, Incomplete: list.Incomplete}
	for _, f := range wal {
		o.WAL = append(o.WAL, f.Name)
	}
	return o, nil
}

// Execute deletes what p lists: backups first (oldest first), then WAL.
// It stops at the first error; running it again continues.
func Execute(ctx context.Context, st storage.Store, arch layout.Archive, p Plan, log hclog.Logger) error {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	for _, d := range p.DeleteBackups {
		if err := catalog.Delete(ctx, st, arch, d.ID); err != nil && !errors.Is(err, catalog.ErrNoBackup) {
			return fmt.Errorf("retention: %w", err)
		}
		log.Info("deleted backup", "backup", d.ID, "reason", d.Reason)
	}
	for _, name := range p.DeleteWAL {
		if err := st.Delete(ctx, arch.WAL(name)); err != nil {
			return fmt.Errorf("retention: delete WAL %s: %w", name, err)
		}
	}
	if len(p.DeleteWAL) > 0 {
		log.Info("deleted WAL", "files", len(p.DeleteWAL), "first", p.DeleteWAL[0], "last", p.DeleteWAL[len(p.DeleteWAL)-1], "kept_from", p.WALFrom)
	}
	return nil
}
