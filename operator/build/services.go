package build

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	apiv1 "github.com/tenure-pg/tenure/operator/api/v1"
)

// Services are <name> (the primary), <name>-repl (the replicas) and
// <name>-pods (headless, every pod ready or not, for the StatefulSet's
// DNS names). The role Services follow the tenure.dev/role label the
// agents move: a new leader removes it from every other pod before it
// promotes, so <name> never routes to two primaries.
func Services(c *apiv1.PostgresCluster) []*corev1.Service {
	return []*corev1.Service{
		roleService(c, c.Name, RolePrimary),
		roleService(c, ReplicaServiceName(c.Name), RoleReplica),
		podsService(c),
	}
}

func roleService(c *apiv1.PostgresCluster, name, role string) *corev1.Service {
	sel := Selector(c)
	sel[LabelRole] = role
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta(c, name),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: sel,
			Ports:    []corev1.ServicePort{port("postgresql", PostgresPort)},
		},
	}
}

func podsService(c *apiv1.PostgresCluster) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta(c, PodsServiceName(c.Name)),
		Spec: corev1.ServiceSpec{
			Type:                     corev1.ServiceTypeClusterIP,
			ClusterIP:                corev1.ClusterIPNone,
			PublishNotReadyAddresses: true,
			Selector:                 Selector(c),
			Ports:                    []corev1.ServicePort{port("postgresql", PostgresPort), port("api", APIPort)},
		},
	}
}

func port(name string, n int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: n, TargetPort: intstr.FromString(name), Protocol: corev1.ProtocolTCP}
}
