package restore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenure-pg/tenure/internal/lsn"
	"github.com/tenure-pg/tenure/walarchive/walname"
)

func TestEndShort(t *testing.T) {
	e := End{Timeline: 2, LSN: 0x9000000, Segment: "000000020000000000000009"}
	for _, tc := range []struct {
		name string
		r    Reached
		want string // substring; "" means not short
	}{
		{"reached the last segment", Reached{Timeline: 2, LSN: 0x9000028, NewTimeline: 3}, ""},
		{"at its start", Reached{Timeline: 2, LSN: 0x9000000, NewTimeline: 3}, ""},
		{"a newer timeline appeared since", Reached{Timeline: 3, LSN: 0x1000000, NewTimeline: 4}, ""},
		{"stopped in the middle", Reached{Timeline: 2, LSN: 0x5000060, NewTimeline: 3}, "recovery ended at 0/5000060 on timeline 2"},
		{"stopped on an older timeline", Reached{Timeline: 1, LSN: 0xA000000, NewTimeline: 2}, "the archive goes on to timeline 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.Short(tc.r)
			if (got == "") != (tc.want == "") || !strings.Contains(got, tc.want) {
				t.Errorf("Short = %q, want %q", got, tc.want)
			}
			if err := e.Check(tc.r); (err != nil) != (tc.want != "") || (err != nil && !errors.Is(err, ErrStoppedShort)) {
				t.Errorf("Check = %v", err)
			}
		})
	}
}

func TestEndFor(t *testing.T) {
	size := walname.Size(16 << 20)
	wal := []string{"000000010000000000000003", "000000020000000000000004"}
	if e := endFor(Target{Kind: LSN}, 2, 0x3000100, wal, size); e != nil {
		t.Errorf("LSN target: %+v, want nil (postgres checks it)", e)
	}
	e := endFor(Target{}, 2, 0x3000100, wal, size)
	if e == nil || e.Timeline != 2 || e.LSN != lsn.LSN(0x4000000) || e.Segment != wal[1] {
		t.Errorf("latest: %+v", e)
	}
	if e := endFor(Target{}, 1, 0x3000100, nil, size); e == nil || e.LSN != 0x3000100 {
		t.Errorf("no WAL after the backup: %+v, want the backup's stop", e)
	}
}

func TestEndFilesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "pg_wal"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ReadEnd(dir); ok || err != nil {
		t.Fatalf("ReadEnd of a directory without %s: ok %v, %v", EndFile, ok, err)
	}
	want := End{Timeline: 1, LSN: 0x8000000, Segment: "000000010000000000000008"}
	if err := writeEnd(dir, want, nil); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := ReadEnd(dir); !ok || err != nil || got != want {
		t.Fatalf("ReadEnd = %+v, %v, %v; want %+v", got, ok, err, want)
	}
	history := "1\t0/6000000\tno recovery target specified\n"
	if err := os.WriteFile(filepath.Join(dir, "pg_wal", "00000002.history"), []byte(history), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := ReadReached(dir, 2)
	if err != nil || r.Timeline != 1 || r.LSN != 0x6000000 || r.NewTimeline != 2 {
		t.Fatalf("ReadReached = %+v, %v", r, err)
	}
	if err := want.Check(r); !errors.Is(err, ErrStoppedShort) {
		t.Errorf("Check = %v, want ErrStoppedShort", err)
	}
	if err := MarkIncomplete(dir, "recovery ended at 0/6000000"); err != nil {
		t.Fatal(err)
	}
	if why, ok := IncompleteReason(dir); !ok || why != "recovery ended at 0/6000000" {
		t.Errorf("IncompleteReason = %q, %v", why, ok)
	}
	if err := os.WriteFile(filepath.Join(dir, AbortFile), []byte("fetch failed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := ReadAbort(dir); got != "fetch failed" {
		t.Errorf("ReadAbort = %q", got)
	}
	if err := ClearRecoverySettings(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{EndFile, AbortFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("ClearRecoverySettings left %s (%v)", name, err)
		}
	}
}
