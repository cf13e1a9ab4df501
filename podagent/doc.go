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
// # One writable primary, whatever stops the agent
//
// Three fences, each covering what the one before cannot:
//
//   - The loop demotes a primary whose lease it could not renew within the
//     renew deadline (ha.Decide), and the guard (guard.go) does the same
//     independently of a loop stuck in a slow step. Both need the agent to
//     run.
//   - The commit gate (package gate) needs nothing to run: every commit
//     waits for the agent's own synchronous-standby confirmation, given
//     only while the lease is fresh on the agent's monotonic clock at that
//     instant. A frozen (SIGSTOP), deadlocked or killed agent confirms
//     nothing, so its postgres acknowledges nothing; on a thaw the gate
//     asks the clock first. It is listed first in synchronous_standby_names
//     in every synchronous mode (FIRST n+1: the gate and the real
//     synchronous standbys must all confirm), and on replicas too, so a
//     promotion never commits without it. Measured (make bench-gate, fsynced
//     single-row commits, quiet 2-core machine): p50 200 → 325 µs with one
//     client (commits/s −33 %), 520 → 700 µs with 8 (−25 %); larger
//     transactions pay proportionally less. Measured by TestFrozenAgentTakesNoWrites: a 20 s SIGSTOP of
//     the primary's agent without the gate let 31 272 direct writes be
//     acknowledged after the lease lapsed and lost 58 500 acknowledged
//     writes in asynchronous mode; with it, none.
//   - Role labels: a new leader removes the primary label from every other
//     pod before it promotes, for clients that come through Services.
//
// Weighed and not chosen: a separate watchdog process that stops postgres
// when the agent's heartbeats stop (it freezes with the container, and
// stopping takes time during which writes land); fencing the old primary
// over the network before promoting (a frozen one cannot be reached, and
// this may only ever add to waiting for the TTL, never replace it).
// What the gate cannot cover: a client that opts out of waiting
// (synchronous_commit = local or off), and one that cancels its own wait
// (a cancel request or statement_timeout: PostgreSQL then reports the
// commit as done, with a WARNING) — as with any synchronous standby.
//
// Packages inside: ha (decisions), gate (the commit gate), pgctl (postgres process control and
// inspection), pgconf (configuration rendering), api (the REST API).
package podagent
