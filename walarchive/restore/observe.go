package restore

import (
	"context"
	"fmt"

	"github.com/tenure-pg/tenure/walarchive/catalog"
	"github.com/tenure-pg/tenure/walarchive/codec"
	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/storage"
	"github.com/tenure-pg/tenure/walarchive/walname"
)

// Observe reads what Decide needs from the archive: the completed
// backups, the WAL listing and every timeline history file. key decrypts
// history files when the archive is encrypted. The caller fills in the
// target.
func Observe(ctx context.Context, st storage.Store, arch layout.Archive, key []byte) (Observation, error) {
	list, err := catalog.List(ctx, st, arch)
	if err != nil {
		return Observation{}, err
	}
	o := Observation{Backups: list.Complete, Histories: map[uint32][]Switch{}}
	if o.WAL, err = catalog.ListWAL(ctx, st, arch); err != nil {
		return Observation{}, err
	}
	for _, f := range o.WAL {
		parsed, err := walname.Parse(f.Name, 0) // history names do not depend on the segment size
		if err != nil || parsed.Kind != walname.KindHistory {
			continue
		}
		h, err := readHistory(ctx, st, arch, f.Name, key)
		if err != nil {
			return Observation{}, err
		}
		o.Histories[parsed.Segment.Timeline] = h
	}
	return o, nil
}

func readHistory(ctx context.Context, st storage.Store, arch layout.Archive, name string, key []byte) ([]Switch, error) {
	rc, err := st.Get(ctx, arch.WAL(name))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	defer rc.Close()
	dec, err := codec.NewReader(rc, key)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	defer dec.Close()
	b, err := readSmall(dec, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	h, err := ParseHistory(b)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return h, nil
}
