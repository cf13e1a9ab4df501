package build

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenure-pg/tenure/leaderelect/kubestore"
	apiv1 "github.com/tenure-pg/tenure/operator/api/v1"
)

// ServiceAccount is the agents' identity, named after the cluster.
func ServiceAccount(c *apiv1.PostgresCluster) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: meta(c, c.Name),
	}
}

// Role grants the agents exactly kubestore.PolicyRules for the cluster's
// current members: writes fenced by name to its own Leases, ConfigMap and
// pods. It follows numberOfInstances, so a new member's Lease is writable
// once the operator scaled the Role, which it applies before the
// StatefulSet.
func Role(c *apiv1.PostgresCluster) *rbacv1.Role {
	return &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: meta(c, c.Name),
		Rules:      kubestore.PolicyRules(c.Name, Members(c.Name, c.Spec.NumberOfInstances)),
	}
}

// RoleBinding binds Role to ServiceAccount.
func RoleBinding(c *apiv1.PostgresCluster) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: meta(c, c.Name),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: c.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: c.Name, Namespace: c.Namespace}},
	}
}
