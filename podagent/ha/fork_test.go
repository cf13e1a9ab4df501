package ha

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseHistory(t *testing.T) {
	got, err := ParseHistory("1\t0/3000160\tno recovery target specified\n\n# comment\n2\t0/5000000\tbefore 2000-01-01 00:00:00+00\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []TimelineSwitch{{Parent: 1, Switchpoint: 0x3000160}, {Parent: 2, Switchpoint: 0x5000000}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("-want +got:\n%s", diff)
	}
	for _, bad := range []string{"x\t0/1\tr", "1\tnot-an-lsn\tr", "1", "2\t0/1\n1\t0/2", "0\t0/1"} {
		if _, err := ParseHistory(bad); err == nil {
			t.Errorf("ParseHistory(%q) accepted", bad)
		}
	}
}

func TestForkDiverged(t *testing.T) {
	hist := []TimelineSwitch{{Parent: 1, Switchpoint: 100}, {Parent: 2, Switchpoint: 200}}
	cases := []struct {
		name     string
		fork     Fork
		diverged bool
	}{
		{"not compared", Fork{}, false},
		{"same timeline", Fork{Leader: "a", Timeline: 3, Position: 999, LeaderTimeline: 3, History: hist}, false},
		{"newer than the leader: not judged here", Fork{Leader: "a", Timeline: 4, Position: 999, LeaderTimeline: 3, History: hist}, false},
		{"at the switchpoint", Fork{Leader: "a", Timeline: 1, Position: 100, LeaderTimeline: 3, History: hist}, false},
		{"one byte past the switchpoint", Fork{Leader: "a", Timeline: 1, Position: 101, LeaderTimeline: 3, History: hist}, true},
		{"middle timeline behind its end", Fork{Leader: "a", Timeline: 2, Position: 150, LeaderTimeline: 3, History: hist}, false},
		{"middle timeline past its end", Fork{Leader: "a", Timeline: 2, Position: 201, LeaderTimeline: 3, History: hist}, true},
		{"timeline missing from the history", Fork{Leader: "a", Timeline: 2, Position: 1, LeaderTimeline: 3, History: hist[:1]}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, why := c.fork.Diverged()
			if got != c.diverged || got == (why == "") {
				t.Fatalf("Diverged() = %v, %q; want %v", got, why, c.diverged)
			}
		})
	}
}

// FuzzParseHistory: no panic, and what parses compares sanely: a position
// at or before a listed timeline's switchpoint is never a divergence.
func FuzzParseHistory(f *testing.F) {
	f.Add("1\t0/3000160\tno recovery target specified\n")
	f.Add("1\t0/1\tr\n2\t0/2\tr\n# c\n")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHistory(s)
		if err != nil {
			return
		}
		for _, sw := range h {
			fk := Fork{Leader: "a", Timeline: sw.Parent, Position: sw.Switchpoint, LeaderTimeline: h[len(h)-1].Parent + 1, History: h}
			if d, why := fk.Diverged(); d {
				t.Fatalf("diverged at the switchpoint: %s (%s)", why, strings.TrimSpace(s))
			}
		}
	})
}
