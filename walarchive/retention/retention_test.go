package retention

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenure-pg/tenure/internal/lsn"
	"github.com/tenure-pg/tenure/walarchive/catalog"
	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/storage/memstore"
	"github.com/tenure-pg/tenure/walarchive/walname"
)

const segSize = 16 << 20

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// backup started in segment startSeg on timeline tli and ended daysAgo.
func backup(daysAgo int, tli uint32, startSeg uint64) catalog.Meta {
	stop := now.Add(-time.Duration(daysAgo) * 24 * time.Hour)
	return catalog.Meta{
		Format: 1, ID: catalog.NewID(stop.Add(-time.Minute)), Timeline: tli, StopTimeline: tli,
		StartLSN: lsn.LSN(startSeg*segSize + 0x28), StopLSN: lsn.LSN((startSeg+1)*segSize + 0x100),
		StartTime: stop.Add(-time.Minute), StopTime: stop, WALSegmentSize: segSize,
		Archives: []catalog.Archive{{Name: "base.tar"}},
	}
}

func seg(tli uint32, no uint64) string { return walname.Segment{Timeline: tli, No: no}.Name(segSize) }

func segs(tli uint32, first, last uint64) []string {
	var out []string
	for no := first; no <= last; no++ {
		out = append(out, seg(tli, no))
	}
	return out
}

func ids(ds []Decision) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func TestDecide(t *testing.T) {
	b30, b20, b10, b1 := backup(30, 1, 2), backup(20, 1, 10), backup(10, 1, 20), backup(1, 2, 30)
	all := []catalog.Meta{b1, b10, b30, b20} // any order
	wal := append(append(segs(1, 1, 25), "00000002.history", seg(1, 3)+".00000028.backup", seg(1, 26)+".partial"), segs(2, 26, 31)...)

	tests := []struct {
		name       string
		obs        Observation
		keep       []string
		delBackups []string
		delWAL     []string
		err        error
	}{
		{
			name: "no policy is refused",
			obs:  Observation{Backups: all, WAL: wal, Now: now},
			err:  ErrNoPolicy,
		},
		{
			name:       "keep last two deletes older backups and their WAL",
			obs:        Observation{Backups: all, WAL: wal, Now: now, Policy: Policy{KeepLast: 2}},
			keep:       []string{b10.ID, b1.ID},
			delBackups: []string{b30.ID, b20.ID},
			delWAL:     append(segs(1, 1, 19), seg(1, 3)+".00000028.backup"),
		},
		{
			name:       "keep within 15 days",
			obs:        Observation{Backups: all, WAL: wal, Now: now, Policy: Policy{KeepWithin: 15 * 24 * time.Hour}},
			keep:       []string{b10.ID, b1.ID},
			delBackups: []string{b30.ID, b20.ID},
			delWAL:     append(segs(1, 1, 19), seg(1, 3)+".00000028.backup"),
		},
		{
			name: "either rule keeps a backup",
			obs:  Observation{Backups: all, WAL: wal, Now: now, Policy: Policy{KeepLast: 3, KeepWithin: 2 * 24 * time.Hour}},
			keep: []string{b20.ID, b10.ID, b1.ID}, delBackups: []string{b30.ID},
			delWAL: append(segs(1, 1, 9), seg(1, 3)+".00000028.backup"),
		},
		{
			name:   "everything within policy deletes nothing",
			obs:    Observation{Backups: all, WAL: wal, Now: now, Policy: Policy{KeepLast: 10}},
			keep:   []string{b30.ID, b20.ID, b10.ID, b1.ID},
			delWAL: segs(1, 1, 1),
		},
		{
			name:       "the newest backup is kept even outside the window",
			obs:        Observation{Backups: all, WAL: wal, Now: now.Add(365 * 24 * time.Hour), Policy: Policy{KeepWithin: time.Hour}},
			keep:       []string{b1.ID},
			delBackups: []string{b30.ID, b20.ID, b10.ID},
			// The newest is on timeline 2, starting in segment 30: all
			// older WAL of timeline 1, including the partial, goes; the
			// history file stays.
			delWAL: append(append(segs(1, 1, 25), seg(1, 3)+".00000028.backup", seg(1, 26)+".partial"), segs(2, 26, 29)...),
		},
		{
			name: "no completed backup deletes no WAL",
			obs:  Observation{WAL: wal, Now: now, Policy: Policy{KeepLast: 1}},
		},
		{
			name: "incomplete backups are deleted only after the grace period",
			obs: Observation{Backups: []catalog.Meta{b1}, Now: now, Policy: Policy{KeepLast: 1},
				Incomplete: []catalog.Incomplete{
					{ID: "20261120T000000Z", ModTime: now.Add(-72 * time.Hour)},
					{ID: "20261123T115000Z", ModTime: now.Add(-10 * time.Minute)}, // in progress
				}},
			keep: []string{b1.ID}, delBackups: []string{"20261120T000000Z"},
		},
		{
			name: "names that are not WAL are left alone",
			obs:  Observation{Backups: []catalog.Meta{b10}, WAL: []string{"README", seg(1, 5) + ".conflict-1", seg(1, 5)}, Now: now, Policy: Policy{KeepLast: 1}},
			keep: []string{b10.ID}, delWAL: []string{seg(1, 5)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Decide(tt.obs)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.keep, ids(p.Keep)); diff != "" {
				t.Errorf("kept (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.delBackups, ids(p.DeleteBackups)); diff != "" {
				t.Errorf("deleted backups (-want +got):\n%s", diff)
			}
			want := append([]string(nil), tt.delWAL...)
			slices.Sort(want)
			if diff := cmp.Diff(want, p.DeleteWAL); diff != "" {
				t.Errorf("deleted WAL (-want +got):\n%s", diff)
			}
			for _, d := range append(p.Keep, p.DeleteBackups...) {
				if d.Reason == "" {
					t.Errorf("%s has no reason", d.ID)
				}
			}
		})
	}
}

// TestExecute runs a plan against a store and checks what is left.
func TestExecute(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	arch := layout.Archive{Cluster: "alpha", UID: "u1", Major: 15}
	old, cur := backup(30, 1, 2), backup(1, 1, 10)
	for _, m := range []catalog.Meta{old, cur} {
		if err := st.Put(ctx, arch.Backup(m.ID, "base.tar"), strings.NewReader("tar")); err != nil {
			t.Fatal(err)
		}
		if err := catalog.Write(ctx, st, arch, m); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range append(segs(1, 1, 12), "00000001.history") {
		if err := st.Put(ctx, arch.WAL(n), strings.NewReader("wal")); err != nil {
			t.Fatal(err)
		}
	}
	o, err := Observe(ctx, st, arch)
	if err != nil {
		t.Fatal(err)
	}
	o.Now, o.Policy = now, Policy{KeepLast: 1}
	p, err := Decide(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := Execute(ctx, st, arch, p, nil); err != nil {
		t.Fatal(err)
	}
	if err := Execute(ctx, st, arch, p, nil); err != nil { // idempotent
		t.Fatalf("second run: %v", err)
	}
	var left []string
	for info, err := range st.List(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		left = append(left, strings.TrimPrefix(info.Key, arch.Root()+"/"))
	}
	want := []string{
		"basebackups/" + cur.ID + "/backup.json", "basebackups/" + cur.ID + "/base.tar",
		"wal/00000001.history", "wal/" + seg(1, 10), "wal/" + seg(1, 11), "wal/" + seg(1, 12),
	}
	if diff := cmp.Diff(want, left); diff != "" {
		t.Errorf("left in store (-want +got):\n%s", diff)
	}
}
