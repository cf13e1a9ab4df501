package ha

import "github.com/tenure-pg/tenure/leaderelect"

// GrantFailsafe decides a failsafe request: leader, at epoch, cannot reach
// the API and asks this member to confirm it may go on as primary. The
// answer is yes only when this member cannot reach the API either (so the
// outage is general, not the leader's alone) and it too sees leader hold
// the lock at that epoch. A leader cut off alone gets no majority and
// demotes at its renew deadline, while the others elect a new one.
func GrantFailsafe(v leaderelect.ClusterView, leader string, epoch int64, apiReachable bool) bool {
	return !apiReachable && leader != "" && v.Lock.Holder == leader && v.Lock.Epoch == epoch
}
