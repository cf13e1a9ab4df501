// Package deploy holds the kubectl-applicable manifests (kubectl apply -k
// deploy/): the PostgresCluster CRD generated from operator/api/v1 (make
// generate), the operator's RBAC and Deployment, and examples/. The Go
// package embeds the CRD so tests and tools install exactly what users
// apply.
package deploy
