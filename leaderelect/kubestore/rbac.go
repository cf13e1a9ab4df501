package kubestore

import rbacv1 "k8s.io/api/rbac/v1"

// PolicyRules are exactly the rights a member of cluster needs in its
// namespace, members being the names of every member the cluster may
// have (its pod names). The contract suite and the end-to-end tests run
// every member under a ServiceAccount holding only these, so a missing
// right fails a test instead of a production pod.
//
// Writes are fenced to the cluster's own objects by name: its leader
// Lease, its members' Leases, its ConfigMap and its pods' labels. A
// member of another cluster in the same namespace cannot take over this
// cluster's lock, pause it, forge a heartbeat or label its pod primary.
//
// What names cannot fence:
//   - create: RBAC never restricts create by resourceNames (the name is
//     not known when the request is authorized), so a member may still
//     create objects that do not exist yet, its own on first start and,
//     in principle, another cluster's before that cluster starts. The
//     operator will pre-create the objects and then drop the create
//     rules; until then a squatted object is visible (labels, holder).
//   - get, list, watch: the informers list by label selector, which RBAC
//     cannot scope by name either; reads stay namespace-wide.
//   - Members share one identity when they share a ServiceAccount (a
//     StatefulSet's pods do), so a member can still write a peer's
//     heartbeat Lease in its own cluster. Per-member fencing needs one
//     ServiceAccount per member with PolicyRules(cluster, []string{self})
//     for its heartbeat plus the shared leader Lease and ConfigMap;
//     the contract suite runs that way.
func PolicyRules(cluster string, members []string) []rbacv1.PolicyRule {
	leases := []string{cluster + "-leader"}
	for _, m := range members {
		leases = append(leases, cluster+"-member-"+m)
	}
	read := []string{"get", "list", "watch"}
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: read},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"create"}},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"update"}, ResourceNames: leases},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: read},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"create"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"update"}, ResourceNames: []string{cluster + "-config"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: read},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"patch"}, ResourceNames: append([]string(nil), members...)},
	}
}
