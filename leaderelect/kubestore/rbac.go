package kubestore

import rbacv1 "k8s.io/api/rbac/v1"

// PolicyRules are exactly the rights a member needs in its namespace. The
// contract suite runs every member under a ServiceAccount holding only
// these, so a missing right fails a test instead of a production pod.
func PolicyRules() []rbacv1.PolicyRule {
	verbs := []string{"get", "list", "watch", "create", "update"}
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: verbs},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: verbs},
	}
}
