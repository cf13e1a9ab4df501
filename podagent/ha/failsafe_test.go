package ha

import (
	"testing"

	"github.com/tenure-pg/tenure/leaderelect"
)

func TestGrantFailsafe(t *testing.T) {
	v := leaderelect.ClusterView{Lock: leaderelect.LockView{Lock: leaderelect.Lock{Holder: "a", Epoch: 4}}}
	cases := []struct {
		name      string
		leader    string
		epoch     int64
		reachable bool
		want      bool
	}{
		{"general outage, same holder and epoch", "a", 4, false, true},
		{"api reachable here: the leader alone is cut off", "a", 4, true, false},
		{"another holder", "b", 4, false, false},
		{"stale epoch", "a", 3, false, false},
		{"empty leader", "", 4, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := GrantFailsafe(v, tc.leader, tc.epoch, tc.reachable); got != tc.want {
				t.Fatalf("GrantFailsafe = %v, want %v", got, tc.want)
			}
		})
	}
}
