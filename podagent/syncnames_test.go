package podagent

import (
	"slices"
	"testing"

	"github.com/tenure-pg/tenure/podagent/gate"
)

func TestSyncStandbyNames(t *testing.T) {
	for _, tc := range []struct {
		name    string
		gate    string
		members []string
		want    string
		back    []string
	}{
		{"async without gate", "", nil, "", nil},
		{"async with gate: the gate alone", gate.Name, nil, `FIRST 1 ("tenure_gate")`, nil},
		{"one standby without gate", "", []string{"pg-1"}, `FIRST 1 ("pg-1")`, []string{"pg-1"}},
		{"gate and two standbys: all must confirm", gate.Name, []string{"pg-2", "pg-1"},
			`FIRST 3 ("tenure_gate", "pg-2", "pg-1")`, []string{"pg-1", "pg-2"}},
		{"strict without standbys", "", []string{"*"}, "*", []string{"*"}},
		{"strict without standbys, gated: the gate and any standby", gate.Name, []string{"*"},
			`FIRST 2 ("tenure_gate", *)`, []string{"*"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := syncStandbyNames(tc.gate, tc.members)
			if got != tc.want {
				t.Fatalf("syncStandbyNames = %q, want %q", got, tc.want)
			}
			if back := parseSyncNames(got); !slices.Equal(back, tc.back) {
				t.Fatalf("parseSyncNames(%q) = %q, want %q", got, back, tc.back)
			}
		})
	}
}
