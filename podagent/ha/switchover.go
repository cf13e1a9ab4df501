package ha

import (
	"fmt"

	"github.com/tenure-pg/tenure/leaderelect"
)

// switchover handles an intent on the leader's path. ok is false when the
// intent does not apply yet (scheduled later) and the leader carries on.
func switchover(o Observation, sw leaderelect.Switchover, actions []Action) (Decision, bool) {
	if sw.From != "" && sw.From != o.Self {
		return decide("switchover intent names another leader: dropping it", append(actions,
			act(ClearSwitchover, fmt.Sprintf("intent is from %s but %s leads", sw.From, o.Self)))...), true
	}
	if !sw.ScheduledAt.IsZero() && o.Now.Before(sw.ScheduledAt) {
		return Decision{}, false
	}
	to := sw.To
	if to == "" {
		to = bestReplica(o, o.Self)
	}
	p, ok := o.Peers[to]
	if to == "" || !ok || !eligiblePeer(o, to, p) || p.Role != leaderelect.RoleReplica {
		return decide("switchover: no eligible live candidate, dropping the intent", append(actions,
			act(ClearSwitchover, fmt.Sprintf("candidate %q is not a live eligible replica", to)))...), true
	}
	return decide(fmt.Sprintf("switchover to %s", to), append(actions,
		act(StopPostgres, "shutdown checkpoint before handing over"),
		actOn(AwaitCandidate, to, "the candidate must receive all WAL up to the shutdown checkpoint"),
		actOn(HandOver, to, "switchover"))...), true
}
