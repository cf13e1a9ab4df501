// Package leaderelect is the cluster's coordination state: the leader lock,
// member heartbeats, dynamic configuration, the initialize record,
// switchover intents, the published synchronous-standby set and the failover
// history.
//
// One Store type holds the rules; a Backend is the thin seam to where the
// records live. kubestore keeps them in the Kubernetes API (a Lease for the
// lock, a Lease per member, a ConfigMap for the rest); memstore keeps them in
// memory for fast tests and simulations. The same contract suite
// (storetest) runs against both, kubestore against a real kube-apiserver.
//
// Invariants the Store keeps:
//
//   - Writes are compare-and-swap on the record's version. A conflict means
//     the race was lost (ErrConflict); the caller re-reads and re-decides.
//   - A write whose outcome is unknown (timeout, dropped response) is
//     recognised as landed by re-reading the record and finding the write
//     id it carried. Without that evidence it is reported as ErrUnavailable.
//   - Expiry is judged by observation, never by comparing clocks: a member
//     considers the lock expired once it has seen no change to it for the
//     lock's TTL on its own clock (a monotonic reading in production, a fake
//     clock in tests). The holder measures its own freshness from the moment
//     it sent its last successful write, which is never later than any other
//     member's observation of that write. Because RenewDeadline < TTL, the
//     holder stops counting itself leader at least TTL-RenewDeadline before
//     anyone else can see the lock expire.
//   - A member that finds itself holder without having written the lock
//     itself (a hand-over, or a restart) is not "leading" until it renews.
//   - Member heartbeats are written when something meaningful changes, when
//     WAL positions moved and HeartbeatMinInterval has passed, or at
//     HeartbeatMaxInterval as a keepalive; never on every loop.
//
// It deliberately does not decide who should lead: that is podagent's pure
// decision function. The Store only answers "did my write land, and what
// does the cluster look like from here".
package leaderelect
