// Package v1 holds the PostgresCluster API (group tenure.dev, version v1):
// the Go types the CRD in deploy/crd is generated from (make generate), so
// the schema, its defaults and its validation rules live next to the
// fields they describe.
//
// Spec field names follow Zalando's acid.zalan.do/v1 postgresql manifest
// where the concept is the same (numberOfInstances, postgresql.version,
// volume.size, users, databases, ...); the HA settings Patroni keeps in
// its DCS config live under spec.ha. What the apiserver can refuse, it
// refuses (OpenAPI bounds and CEL rules): a bad manifest is an error at
// kubectl apply, not a stuck reconcile.
//
// +kubebuilder:object:generate=true
// +groupName=tenure.dev
package v1
