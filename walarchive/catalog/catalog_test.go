package catalog_test

import (
	"context"
	"errors"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenure-pg/tenure/walarchive/catalog"
	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/storage"
	"github.com/tenure-pg/tenure/walarchive/storage/memstore"
)

var arch = layout.Archive{Cluster: "alpha", UID: "u1", Major: 15}

func meta(id string) catalog.Meta {
	t, _ := time.Parse(catalog.IDLayout, id)
	return catalog.Meta{Format: 1, ID: id, Timeline: 1, StopTimeline: 1, StartLSN: 0x2000028, StopLSN: 0x2000100,
		StartTime: t, StopTime: t.Add(time.Minute), WALSegmentSize: 16 << 20, Compression: "zstd",
		Archives: []catalog.Archive{{Name: "base.tar", Raw: 10, Stored: 5, SHA256: "ab"}}}
}

func put(t *testing.T, st storage.Store, key string) {
	t.Helper()
	if err := st.Put(context.Background(), key, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
}

func TestListWriteDelete(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	done, partial := meta("20261123T100000Z"), "20261123T110000Z"
	put(t, st, arch.Backup(done.ID, "base.tar"))
	if err := catalog.Write(ctx, st, arch, done); err != nil {
		t.Fatal(err)
	}
	put(t, st, arch.Backup(partial, "base.tar"))
	put(t, st, arch.Backup("not-an-id", "x")) // foreign objects are ignored

	l, err := catalog.List(ctx, st, arch)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]catalog.Meta{done}, l.Complete); diff != "" {
		t.Errorf("complete (-want +got):\n%s", diff)
	}
	if len(l.Incomplete) != 1 || l.Incomplete[0].ID != partial || l.Incomplete[0].Size != 1 {
		t.Errorf("incomplete %+v", l.Incomplete)
	}
	if err := catalog.Write(ctx, st, arch, done); !errors.Is(err, storage.ErrExists) {
		t.Errorf("second Write: %v, want ErrExists", err)
	}
	if err := catalog.CheckUnused(ctx, st, arch, done.ID); !errors.Is(err, catalog.ErrExists) {
		t.Errorf("CheckUnused: %v", err)
	}
	if err := catalog.Delete(ctx, st, arch, "20200101T000000Z"); !errors.Is(err, catalog.ErrNoBackup) {
		t.Errorf("Delete of a missing backup: %v", err)
	}
	if err := catalog.Delete(ctx, st, arch, done.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := catalog.Read(ctx, st, arch, done.ID); !errors.Is(err, catalog.ErrNoBackup) {
		t.Errorf("Read after Delete: %v", err)
	}
}

// failingDeletes fails every Delete after the first.
type failingDeletes struct {
	storage.Store
	deleted []string
}

func (f *failingDeletes) Delete(ctx context.Context, key string) error {
	if len(f.deleted) > 0 {
		return errors.New("outage")
	}
	f.deleted = append(f.deleted, key)
	return f.Store.Delete(ctx, key)
}

func (f *failingDeletes) List(ctx context.Context, prefix string) iter.Seq2[storage.Info, error] {
	return f.Store.List(ctx, prefix)
}

// TestDeleteMarkerFirst: a deletion that stops half-way leaves an
// incomplete backup, never a complete one with parts missing.
func TestDeleteMarkerFirst(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	m := meta("20261123T100000Z")
	put(t, mem, arch.Backup(m.ID, "base.tar"))
	put(t, mem, arch.Backup(m.ID, "backup_manifest"))
	if err := catalog.Write(ctx, mem, arch, m); err != nil {
		t.Fatal(err)
	}
	st := &failingDeletes{Store: mem}
	if err := catalog.Delete(ctx, st, arch, m.ID); err == nil {
		t.Fatal("Delete succeeded through an outage")
	}
	if st.deleted[0] != arch.Backup(m.ID, catalog.MetaPart) {
		t.Errorf("first deleted %s, want backup.json", st.deleted[0])
	}
	l, err := catalog.List(ctx, mem, arch)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Complete) != 0 || len(l.Incomplete) != 1 {
		t.Errorf("after a half deletion: %+v", l)
	}
}

func TestValidID(t *testing.T) {
	for id, ok := range map[string]bool{"20261123T101500Z": true, "20261123T101500": false, "20261323T101500Z": false, "../x": false} {
		if catalog.ValidID(id) != ok {
			t.Errorf("ValidID(%q) = %v", id, !ok)
		}
	}
}
