package restore

import (
	"errors"
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
