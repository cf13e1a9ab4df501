package build

import (
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	apiv1 "github.com/tenure-pg/tenure/operator/api/v1"
)

// PodDisruptionBudget lets a drain evict one member at a time. An evicted
// primary stops gracefully and hands its Lease to a caught-up replica, so
// one eviction costs a switchover's write gap; two at once could take the
// primary and its only synchronous standby together.
func PodDisruptionBudget(c *apiv1.PostgresCluster) *policyv1.PodDisruptionBudget {
	one := intstr.FromInt32(1)
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: meta(c, c.Name),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: &one,
			Selector:       &metav1.LabelSelector{MatchLabels: Selector(c)},
		},
	}
}
