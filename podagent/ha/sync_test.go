package ha

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenure-pg/tenure/leaderelect"
)

func TestSyncActions(t *testing.T) {
	base := func(mode SyncMode, published []string, pubLeader string, applied []string, streaming ...string) Observation {
		return with(leaderNow(), func(o *Observation) {
			o.Settings.SyncMode = mode
			o.View.State.Sync = leaderelect.SyncState{Leader: pubLeader, Members: published}
			o.Postgres.SyncStandbys = applied
			o.Postgres.StreamingReplicas = streaming
			o.Postgres.FlushedLSN, o.Postgres.SyncAppliedLSN = 2000, 1000
			o.Postgres.ReplicaFlushed = map[string]uint64{"b": 1000, "c": 1000}
		})
	}
	lagging := func(o *Observation) { o.Postgres.ReplicaFlushed = map[string]uint64{"b": 999, "c": 999} }
	cases := []struct {
		name string
		obs  Observation
		want []Action
	}{
		{"off and clean", base(SyncOff, nil, "a", nil, "b"), nil},
		{"new leader takes the set over, empty", base(SyncOn, []string{"a"}, "z", nil, "b"),
			[]Action{{Kind: PublishSync}}},
		{"grow: apply first", base(SyncOn, nil, "a", nil, "b", "c"),
			[]Action{{Kind: ApplySync, Members: []string{"b"}}}},
		{"grow: publish once caught up", base(SyncOn, nil, "a", []string{"b"}, "b", "c"),
			[]Action{{Kind: PublishSync, Members: []string{"b"}}}},
		{"grow: not before", with(base(SyncOn, nil, "a", []string{"b"}, "b", "c"), lagging), nil},
		{"steady", base(SyncOn, []string{"b"}, "a", []string{"b"}, "b", "c"), nil},
		{"swap: unpublish the old one first", base(SyncOn, []string{"b"}, "a", []string{"b"}, "c"),
			[]Action{{Kind: PublishSync}}},
		{"swap: then apply the new one", base(SyncOn, nil, "a", []string{"b"}, "c"),
			[]Action{{Kind: ApplySync, Members: []string{"c"}}}},
		{"swap: then publish it once caught up", base(SyncOn, nil, "a", []string{"c"}, "c"),
			[]Action{{Kind: PublishSync, Members: []string{"c"}}}},
		{"no standby in on mode: unpublish, then apply none", base(SyncOn, nil, "a", []string{"b"}),
			[]Action{{Kind: ApplySync}}},
		{"no standby in strict mode: block commits", base(SyncStrict, nil, "a", []string{"b"}),
			[]Action{{Kind: ApplySync, Members: []string{"*"}}}},
		{"turned off: unpublish first", base(SyncOff, []string{"b"}, "a", []string{"b"}, "b"),
			[]Action{{Kind: PublishSync}}},
		{"turned off: then apply nothing", base(SyncOff, nil, "a", []string{"b"}, "b"),
			[]Action{{Kind: ApplySync}}},
		{"current standby kept though another is ahead", base(SyncOn, []string{"c"}, "a", []string{"c"}, "b", "c"), nil},
		{"two sync nodes", with(base(SyncOn, nil, "a", nil, "c", "b"), func(o *Observation) { o.Settings.SyncNodeCount = 2 }),
			[]Action{{Kind: ApplySync, Members: []string{"b", "c"}}}},
		{"two sync nodes, one caught up", with(base(SyncOn, nil, "a", []string{"b", "c"}, "c", "b"), func(o *Observation) {
			o.Settings.SyncNodeCount = 2
			o.Postgres.ReplicaFlushed = map[string]uint64{"b": 999, "c": 1000}
		}), []Action{{Kind: PublishSync, Members: []string{"c"}}}},
		{"nosync member skipped", with(base(SyncOn, nil, "a", nil, "b", "c"), func(o *Observation) {
			o.View.Members["b"] = leaderelect.MemberView{MemberStatus: leaderelect.MemberStatus{Tags: leaderelect.Tags{NoSync: true}}}
		}), []Action{{Kind: ApplySync, Members: []string{"c"}}}},
	}
	ignoreReason := cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Reason" }, cmp.Ignore())
	emptyIsNil := cmp.Comparer(func(a, b []string) bool { return len(a) == len(b) && (len(a) == 0 || cmp.Equal(a, b)) })
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, syncActions(tc.obs), ignoreReason, emptyIsNil); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}
