// Package kubestore keeps a cluster's coordination records in the
// Kubernetes API: a leaderelect.Backend.
//
// Objects, all labelled tenure.dev/cluster=<cluster> in the cluster's
// namespace:
//
//   - Lease <cluster>-leader: the leader lock. holderIdentity, leaseDurationSeconds,
//     acquireTime, renewTime and leaseTransitions (the epoch) are the
//     standard fields, so `kubectl get lease` shows the leader.
//   - Lease <cluster>-member-<member>: a member's heartbeat, its status as
//     JSON in the tenure.dev/status annotation. When the member runs in a
//     pod the pod owns it, so it is garbage-collected with the pod.
//   - ConfigMap <cluster>-config: dynamic configuration, the initialize
//     record, the switchover intent, the synchronous set and the history,
//     one data key each, JSON, so `kubectl edit` stays readable.
//
// Writes are Create or Update with the observed resourceVersion (optimistic
// concurrency); reads come from informers on those two kinds, filtered by
// the cluster label, never from polling. resourceVersions are etcd
// revisions, so they order events (leaderelect relies on that to drop a
// stale event that arrives after a write's response).
//
// Every error is classified: 409 and AlreadyExists as ErrConflict, 404 as
// ErrNotFound, 401/403 as ErrForbidden, 400/422 as ErrInvalid, and
// everything else (timeouts, refused connections, 5xx, 429) as
// ErrUnavailable.
package kubestore
