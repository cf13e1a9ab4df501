// Package controller is the PostgresCluster reconcile loop, shaped like
// kubernetes/sample-controller and nothing cleverer: informers on the
// clusters and every kind they own only enqueue the cluster's
// namespace/name; workers take keys from a rate-limited workqueue and run
// sync(key), which reads the cluster from its lister, builds the desired
// objects (package build), writes them and then the status. sync is
// level-triggered and idempotent: it does the same thing whatever event
// woke it, so a missed event costs a resync period, never correctness.
//
// Writes are server-side apply with one field manager (tenure-operator)
// and force, so the operator owns exactly the fields it sets and what
// others set (an HPA's replicas aside, annotations, labels added by
// kubectl) survives. Secrets are the exception: created when absent and
// never written again, so passwords are never regenerated.
//
// The loop holds no state that the API does not: a restarted operator
// rebuilds everything from its informers. It does not decide failover;
// the agents do, and a cluster keeps failing over with the operator down.
//
// A larger spec.volume.size patches the existing PVCs (the StatefulSet's
// claim templates are immutable and keep the size they were created
// with); a refusal is the VolumeResized condition.
//
// Deletion protection: a cluster annotated tenure.dev/delete-protect=true
// gets the finalizer of that name, so a kubectl delete leaves it and
// everything it owns Terminating until the annotation is removed.
//
// Not here yet: rolling updates (the StatefulSet is OnDelete and nothing
// deletes pods), users and databases.
//
// Events (SecretCreated, VolumeResized, ResizeRefused, DeletionBlocked,
// and one per phase change) are recorded on the cluster.
package controller
