package restore

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenure-pg/tenure/internal/lsn"
	"github.com/tenure-pg/tenure/walarchive/catalog"
	"github.com/tenure-pg/tenure/walarchive/walname"
)

const segSize = 16 << 20

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// at is a position in segment no, off bytes in.
func at(no uint64, off uint64) lsn.LSN { return lsn.LSN(no*segSize + off) }

// backup is a backup on timeline tli from segment start to stop (at
// offset 0x28 in each), ending at minute stopMin after t0.
func backup(id string, tli uint32, start, stop uint64, stopMin int) catalog.Meta {
	return catalog.Meta{
		Format: 1, ID: id, Timeline: tli, StopTimeline: tli,
		StartLSN: at(start, 0x28), StopLSN: at(stop, 0x100),
		StartTime: t0, StopTime: t0.Add(time.Duration(stopMin) * time.Minute),
		WALSegmentSize: segSize, Archives: []catalog.Archive{{Name: "base.tar"}},
	}
}

// segs is segments first..last of timeline tli, archived one minute apart
// starting at minute archivedMin(first).
func segs(tli uint32, first, last uint64) []WALFile {
	var out []WALFile
	for no := first; no <= last; no++ {
		out = append(out, WALFile{
			Name:    walname.Segment{Timeline: tli, No: no}.Name(segSize),
			ModTime: t0.Add(time.Duration(no) * time.Minute),
		})
	}
	return out
}

func name(tli uint32, no uint64) string { return walname.Segment{Timeline: tli, No: no}.Name(segSize) }

func names(tli uint32, first, last uint64) []string {
	var out []string
	for no := first; no <= last; no++ {
		out = append(out, name(tli, no))
	}
	return out
}

func cat(lists ...[]WALFile) []WALFile {
	var out []WALFile
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func without(files []WALFile, drop string) []WALFile {
	var out []WALFile
	for _, f := range files {
		if f.Name != drop {
			out = append(out, f)
		}
	}
	return out
}

func TestDecide(t *testing.T) {
	b1 := backup("20261123T100000Z", 1, 2, 3, 3) // consistent in segment 3 at minute 3
	b2 := backup("20261123T100800Z", 1, 8, 9, 9) // segment 9, minute 9
	b3tl2 := backup("20261123T101500Z", 2, 15, 15, 15)
	// Timeline 2 branched from 1 at the start of segment 12.
	hist2 := []Switch{{Parent: 1, At: at(12, 0)}}
	archive := segs(1, 1, 14) // segment n archived at minute n

	tests := []struct {
		name    string
		obs     Observation
		backup  string
		wal     []string
		history []string
		tli     uint32
		err     error
		msg     string // substring of the error
	}{
		{
			name:   "latest uses the newest backup and all WAL after it",
			obs:    Observation{Backups: []catalog.Meta{b1, b2}, WAL: archive},
			backup: b2.ID, wal: names(1, 9, 14), tli: 1,
		},
		{
			name:   "latest with nothing archived past the backup restores to its end",
			obs:    Observation{Backups: []catalog.Meta{b1, b2}, WAL: segs(1, 1, 8)},
			backup: b2.ID, tli: 1,
		},
		{
			name: "latest refuses a gap after the backup",
			obs:  Observation{Backups: []catalog.Meta{b1, b2}, WAL: without(archive, name(1, 11))},
			err:  ErrWALMissing, msg: "WAL gap at segment " + name(1, 11),
		},
		{
			name:   "a gap before the newest backup does not matter",
			obs:    Observation{Backups: []catalog.Meta{b1, b2}, WAL: without(archive, name(1, 5))},
			backup: b2.ID, wal: names(1, 9, 14), tli: 1,
		},
		{
			name:   "immediate needs no archived WAL",
			obs:    Observation{Backups: []catalog.Meta{b1, b2}, Target: Target{Kind: Immediate}},
			backup: b2.ID, tli: 1,
		},
		{
			name:   "time between backups picks the older one and WAL up to the target",
			obs:    Observation{Backups: []catalog.Meta{b1, b2}, WAL: archive, Target: Target{Kind: Time, Time: t0.Add(6*time.Minute + 30*time.Second)}},
			backup: b1.ID, wal: names(1, 3, 7), tli: 1,
		},
		{
			name: "time before every backup is refused",
			obs:  Observation{Backups: []catalog.Meta{b1, b2}, WAL: archive, Target: Target{Kind: Time, Time: t0.Add(time.Minute)}},
			err:  ErrNoBackup, msg: "after the target time",
		},
		{
			name: "time past the archive's end is refused",
			obs:  Observation{Backups: []catalog.Meta{b1, b2}, WAL: archive, Target: Target{Kind: Time, Time: t0.Add(time.Hour)}},
			err:  ErrTargetNotReached,
		},
		{
			name: "time with a gap before the target is refused",
			obs:  Observation{Backups: []catalog.Meta{b1, b2}, WAL: without(archive, name(1, 5)), Target: Target{Kind: Time, Time: t0.Add(6 * time.Minute)}},
			err:  ErrWALMissing, msg: name(1, 5),
		},
		{
			name:   "lsn picks the newest backup consistent before it",
			obs:    Observation{Backups: []catalog.Meta{b1, b2}, WAL: archive, Target: Target{Kind: LSN, LSN: at(10, 5)}},
			backup: b2.ID, wal: names(1, 9, 10), tli: 1,
		},
		{
			name:   "lsn inside the newest backup's WAL falls back to the older backup",
			obs:    Observation{Backups: []catalog.Meta{b1, b2}, WAL: archive, Target: Target{Kind: LSN, LSN: at(9, 0x50)}},
			backup: b1.ID, wal: names(1, 3, 9), tli: 1,
		},
		{
			name: "no backups",
			obs:  Observation{WAL: archive},
			err:  ErrNoBackup, msg: "no completed backup",
		},
		{
			name:   "backup chosen by id",
			obs:    Observation{Backups: []catalog.Meta{b1, b2}, WAL: archive, BackupID: b1.ID, Target: Target{Kind: Name, Name: "before_migration"}},
			backup: b1.ID, wal: names(1, 3, 14), tli: 1,
		},
		{
			name: "unknown backup id",
			obs:  Observation{Backups: []catalog.Meta{b1}, WAL: archive, BackupID: "20200101T000000Z"},
			err:  ErrNoBackup, msg: "20200101T000000Z",
		},
		{
			name: "latest timeline follows the branch",
			obs: Observation{
				Backups: []catalog.Meta{b1, b2}, Histories: map[uint32][]Switch{2: hist2},
				WAL: cat(segs(1, 1, 14), segs(2, 12, 16), []WALFile{{Name: "00000002.history"}}),
			},
			backup: b2.ID, wal: append(names(1, 9, 11), names(2, 12, 16)...), history: []string{"00000002.history"}, tli: 2,
		},
		{
			name: "current timeline ignores the branch",
			obs: Observation{
				Backups: []catalog.Meta{b2}, Histories: map[uint32][]Switch{2: hist2},
				WAL:    cat(segs(1, 1, 14), segs(2, 12, 16)),
				Target: Target{Timeline: TimelineCurrent},
			},
			backup: b2.ID, wal: names(1, 9, 14), tli: 1,
		},
		{
			name: "a backup on the new timeline is preferred for latest",
			obs: Observation{
				Backups: []catalog.Meta{b1, b2, b3tl2}, Histories: map[uint32][]Switch{2: hist2},
				WAL: cat(segs(1, 1, 14), segs(2, 12, 16)),
			},
			backup: b3tl2.ID, wal: names(2, 15, 16), history: []string{"00000002.history"}, tli: 2,
		},
		{
			name: "a backup past the branch point is not on the old timeline",
			obs: Observation{
				Backups: []catalog.Meta{b3tl2}, Histories: map[uint32][]Switch{2: hist2},
				WAL: segs(1, 1, 14), Target: Target{Timeline: "1"},
			},
			err: ErrTimeline,
		},
		{
			name: "explicit timeline without its history file",
			obs:  Observation{Backups: []catalog.Meta{b2}, WAL: archive, Target: Target{Timeline: "3"}},
			err:  ErrTimeline, msg: "00000003.history",
		},
		{
			name: "invalid target",
			obs:  Observation{Backups: []catalog.Meta{b2}, Target: Target{Kind: Name, Exclusive: true}},
			msg:  "exclusive applies only",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Decide(tt.obs)
			if tt.err != nil || tt.msg != "" {
				if err == nil {
					t.Fatalf("Decide = %+v, want error", p)
				}
				if tt.err != nil && !errors.Is(err, tt.err) {
					t.Errorf("error %v, want %v", err, tt.err)
				}
				if !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("error %q does not mention %q", err, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Backup.ID != tt.backup {
				t.Errorf("backup %s, want %s (%s)", p.Backup.ID, tt.backup, p.Reason)
			}
			if diff := cmp.Diff(tt.wal, p.WAL); diff != "" {
				t.Errorf("WAL (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.history, p.History); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
			if p.Timeline != tt.tli {
				t.Errorf("timeline %d, want %d", p.Timeline, tt.tli)
			}
		})
	}
}

func TestParseHistory(t *testing.T) {
	got, err := ParseHistory([]byte("1\t0/3000000\tno recovery target specified\n\n2\t0/5000A28\tbefore 2026-11-23\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Switch{{1, at(3, 0)}, {2, lsn.LSN(0x5000A28)}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"x\t0/1\n", "1\n", "2\t0/5\n1\t0/6\n", "1\t0/6\n2\t0/5\n"} {
		if _, err := ParseHistory([]byte(bad)); err == nil {
			t.Errorf("ParseHistory(%q) succeeded", bad)
		}
	}
}
