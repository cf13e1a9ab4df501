// Package podagent is tenure-agent: the in-pod agent that supervises
// postgres, keeps exactly one writable primary, and tells Kubernetes and
// load balancers who is who.
//
// The agent is a loop: observe (own postgres, the cluster view from
// leaderelect, peers' REST status when an election or hand-over needs
// them), decide (podagent/ha.Decide, a pure function), act (this package's
// executor, which makes no decisions beyond error handling). It wakes on
// every observed change of the cluster's records, when postgres exits, and
// at the instants a decision can change on its own: the renewal due time,
// the renew deadline and the lock's expiry as observed here; otherwise
// every LoopWait.
//
// Packages inside: ha (decisions), pgctl (postgres process control and
// inspection), pgconf (configuration rendering), api (the REST API).
package podagent
