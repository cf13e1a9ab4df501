// Package build turns a PostgresCluster into the Kubernetes objects that
// run it: plain functions, spec in, objects out, no client and no clock,
// so each is golden-tested (testdata/*.yaml; go test -update rewrites).
//
// Every object carries the cluster's labels (tenure.dev/cluster and the
// app.kubernetes.io/* recommended labels) and, except the PVCs, an owner
// reference to the cluster, so deleting the cluster garbage-collects
// them. The PVCs come from the StatefulSet's volumeClaimTemplates, carry
// no owner reference and are retained on delete and scale-down
// (persistentVolumeClaimRetentionPolicy Retain): a cluster deleted by
// mistake is recreated from its volumes.
//
// The builders do not decide when to write: Secrets are built here but
// created only when absent (passwords are never regenerated), which is
// the controller's rule.
package build
