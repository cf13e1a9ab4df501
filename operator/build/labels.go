package build

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	apiv1 "github.com/tenure-pg/tenure/operator/api/v1"
)

// Label keys. LabelCluster and LabelRole are the ones the agents use
// (kubestore.LabelCluster, podagent.LabelRole).
const (
	LabelCluster   = "tenure.dev/cluster"
	LabelRole      = "tenure.dev/role"
	LabelName      = "app.kubernetes.io/name"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelComponent = "app.kubernetes.io/component"
	LabelManagedBy = "app.kubernetes.io/managed-by"

	// RolePrimary and RoleReplica are the values the agents set on LabelRole.
	RolePrimary = "primary"
	RoleReplica = "replica"

	// ManagedBy is the operator's name in LabelManagedBy and its field manager.
	ManagedBy = "tenure-operator"
)

// Selector is the label set that picks a cluster's pods; the StatefulSet's
// selector, so it never changes.
func Selector(c *apiv1.PostgresCluster) map[string]string {
	return map[string]string{LabelCluster: c.Name, LabelName: "tenure"}
}

// Labels are put on every object of the cluster.
func Labels(c *apiv1.PostgresCluster) map[string]string {
	l := Selector(c)
	l[LabelInstance] = c.Name
	l[LabelComponent] = "postgresql"
	l[LabelManagedBy] = ManagedBy
	return l
}

// meta is the ObjectMeta of an owned object named name.
func meta(c *apiv1.PostgresCluster, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:            name,
		Namespace:       c.Namespace,
		Labels:          Labels(c),
		OwnerReferences: []metav1.OwnerReference{OwnerReference(c)},
	}
}

// OwnerReference makes the cluster the controller of an object.
func OwnerReference(c *apiv1.PostgresCluster) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion:         apiv1.SchemeGroupVersion.String(),
		Kind:               apiv1.Kind,
		Name:               c.Name,
		UID:                c.UID,
		Controller:         ptr.To(true),
		BlockOwnerDeletion: ptr.To(true),
	}
}
