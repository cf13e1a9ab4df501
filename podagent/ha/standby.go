package ha

import (
	"github.com/tenure-pg/tenure/leaderelect"
)

// standbyLeader is the lock holder of a standby cluster: it replays the
// source cluster's archive (its restore_command points there) and keeps
// its replicas' slots. It never promotes while the cluster is a standby;
// promotion is asked for by turning StandbyCluster off, which takes the
// ordinary leader path (fence, promote, label).
//
// It carries the primary role label: the cluster's Service routes to the
// member everything else replicates from, read-only until promotion. The
// REST API's /primary still answers 503 (postgres is in recovery), so a
// load balancer probing it never sends writes there.
func standbyLeader(o Observation, actions []Action) Decision {
	if o.Postgres.Following != "" {
		// A replica that took over the lock still streams from the old
		// leader: point it at the source archive instead.
		actions = append(actions, Action{Kind: Follow, Reason: "a standby leader replays the source archive"})
	}
	if missing := missingSlots(o); len(missing) > 0 {
		actions = append(actions, Action{Kind: CreateSlots, Members: missing, Reason: "keep WAL for every member"})
	}
	if o.Settings.InPod && o.Label != leaderelect.RolePrimary {
		actions = append(actions, label(leaderelect.RolePrimary))
	}
	if len(actions) == 0 {
		return wait("standby leader: replaying the source archive")
	}
	return decide("standby leader: replaying the source archive", actions...)
}
