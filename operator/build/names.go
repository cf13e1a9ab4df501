package build

import "fmt"

// ReplicaServiceName is the Service of the replicas; the primary's is
// the cluster's own name (DESIGN.md).
func ReplicaServiceName(cluster string) string { return cluster + "-repl" }

// PodsServiceName is the headless Service the StatefulSet's pods resolve by.
func PodsServiceName(cluster string) string { return cluster + "-pods" }

// APITokenSecretName holds the agents' shared REST API token.
func APITokenSecretName(cluster string) string { return cluster + "-api-token" }

// SuperuserSecretName holds postgres's password.
func SuperuserSecretName(cluster string) string { return cluster + "-superuser" }

// ReplicationSecretName holds the replication user's password.
func ReplicationSecretName(cluster string) string { return cluster + "-replication" }

// Members are the pod names of a cluster of n instances.
func Members(cluster string, n int32) []string {
	out := make([]string, 0, n)
	for i := range n {
		out = append(out, fmt.Sprintf("%s-%d", cluster, i))
	}
	return out
}
