package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/storage"
)

// Sentinel errors; callers test with errors.Is.
var (
	// ErrNoBackup: no completed backup has the ID.
	ErrNoBackup = errors.New("no such backup")
	// ErrExists: a backup with the ID already has objects in the store.
	ErrExists = errors.New("backup id already in use")
)

// Incomplete is a backup ID with objects but no backup.json: a backup in
// progress, one that failed or was killed, or a deletion that stopped
// half-way (Delete removes backup.json first).
type Incomplete struct {
	ID      string
	Keys    []string
	Size    int64     // stored bytes so far
	ModTime time.Time // newest object's
}

// Listing is what a store holds under an archive's backups prefix.
type Listing struct {
	Complete   []Meta       // oldest first (IDs sort by start time)
	Incomplete []Incomplete // oldest first
}

// Newest is the last completed backup, if any.
func (l Listing) Newest() (Meta, bool) {
	if len(l.Complete) == 0 {
		return Meta{}, false
	}
	return l.Complete[len(l.Complete)-1], true
}

// Find returns the completed backup id.
func (l Listing) Find(id string) (Meta, error) {
	for _, m := range l.Complete {
		if m.ID == id {
			return m, nil
		}
	}
	return Meta{}, fmt.Errorf("backup %q: %w", id, ErrNoBackup)
}

// List reads the catalogue: one List call over the backups prefix and one
// Get per completed backup's backup.json.
func List(ctx context.Context, st storage.Store, arch layout.Archive) (Listing, error) {
	groups, order, err := groupByID(ctx, st, arch)
	if err != nil {
		return Listing{}, err
	}
	var l Listing
	for _, id := range order {
		g := groups[id]
		if !g.hasMeta {
			l.Incomplete = append(l.Incomplete, g.Incomplete)
			continue
		}
		m, err := Read(ctx, st, arch, id)
		if err != nil {
			return Listing{}, err
		}
		l.Complete = append(l.Complete, m)
	}
	return l, nil
}

type group struct {
	Incomplete
	hasMeta bool
}

func groupByID(ctx context.Context, st storage.Store, arch layout.Archive) (map[string]*group, []string, error) {
	groups := map[string]*group{}
	var order []string
	for info, err := range st.List(ctx, arch.BackupsPrefix()) {
		if err != nil {
			return nil, nil, fmt.Errorf("list backups under %s: %w", arch.BackupsPrefix(), err)
		}
		rest := strings.TrimPrefix(info.Key, arch.BackupsPrefix())
		id, part, ok := strings.Cut(rest, "/")
		if !ok || !ValidID(id) {
			continue // not ours: leave foreign objects alone
		}
		g := groups[id]
		if g == nil {
			g = &group{Incomplete: Incomplete{ID: id}}
			groups[id] = g
			order = append(order, id)
		}
		g.Keys = append(g.Keys, info.Key)
		g.Size += info.Size
		if info.ModTime.After(g.ModTime) {
			g.ModTime = info.ModTime
		}
		if part == MetaPart {
			g.hasMeta = true
		}
	}
	slices.Sort(order)
	return groups, order, nil
}

// Read reads and validates one backup's backup.json. A missing one wraps
// ErrNoBackup.
func Read(ctx context.Context, st storage.Store, arch layout.Archive, id string) (Meta, error) {
	b, err := storage.ReadAll(ctx, st, arch.Backup(id, MetaPart))
	if errors.Is(err, storage.ErrNotFound) {
		return Meta{}, fmt.Errorf("backup %q: %w", id, ErrNoBackup)
	}
	if err != nil {
		return Meta{}, fmt.Errorf("read backup %s: %w", id, err)
	}
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return Meta{}, fmt.Errorf("read backup %s: %w", id, err)
	}
	if err := m.Validate(); err != nil {
		return Meta{}, fmt.Errorf("read backup %s: %w", id, err)
	}
	if m.ID != id {
		return Meta{}, fmt.Errorf("read backup %s: backup.json names %s", id, m.ID)
	}
	return m, nil
}

// Write stores m's backup.json, which marks the backup complete: it must
// be the last object of a backup written. It refuses to replace one.
func Write(ctx context.Context, st storage.Store, arch layout.Archive, m Meta) error {
	if err := m.Validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode backup %s: %w", m.ID, err)
	}
	if err := st.Create(ctx, arch.Backup(m.ID, MetaPart), bytes.NewReader(append(b, '\n'))); err != nil {
		return fmt.Errorf("write backup %s: %w", m.ID, err)
	}
	return nil
}

// CheckUnused fails with ErrExists when any object already exists under
// backup id, so a new backup never mixes its parts with another's.
func CheckUnused(ctx context.Context, st storage.Store, arch layout.Archive, id string) error {
	for info, err := range st.List(ctx, arch.Backup(id, "")) {
		if err != nil {
			return fmt.Errorf("check backup id %s: %w", id, err)
		}
		return fmt.Errorf("backup %s (%s): %w", id, info.Key, ErrExists)
	}
	return nil
}

// Delete removes every object of backup id, completed or not. backup.json
// goes first, so a deletion that stops half-way leaves an incomplete
// backup (listed as such, deletable again), never a complete-looking one
// with parts missing. Deleting an ID with no objects fails with
// ErrNoBackup.
func Delete(ctx context.Context, st storage.Store, arch layout.Archive, id string) error {
	if !ValidID(id) {
		return fmt.Errorf("delete backup %q: %w", id, ErrNoBackup)
	}
	var keys []string
	for info, err := range st.List(ctx, arch.Backup(id, "")) {
		if err != nil {
			return fmt.Errorf("delete backup %s: %w", id, err)
		}
		keys = append(keys, info.Key)
	}
	if len(keys) == 0 {
		return fmt.Errorf("delete backup %q: %w", id, ErrNoBackup)
	}
	metaKey := arch.Backup(id, MetaPart)
	if err := st.Delete(ctx, metaKey); err != nil {
		return fmt.Errorf("delete backup %s: %w", id, err)
	}
	for _, k := range keys {
		if k == metaKey {
			continue
		}
		if err := st.Delete(ctx, k); err != nil {
			return fmt.Errorf("delete backup %s: %w", id, err)
		}
	}
	return nil
}
