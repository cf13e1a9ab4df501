package build

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	apiv1 "github.com/tenure-pg/tenure/operator/api/v1"
)

// Resize is one PVC to grow, and why.
type Resize struct {
	Claim  string
	From   resource.Quantity
	To     resource.Quantity
	Reason string
}

// Resizes are the cluster's data PVCs smaller than spec.volume.size. It
// never shrinks one (Kubernetes refuses, and the CRD already refuses a
// smaller size), and it ignores claims that are not the cluster's data
// volumes (another template, another cluster).
func Resizes(c *apiv1.PostgresCluster, claims []*corev1.PersistentVolumeClaim) []Resize {
	want := c.Spec.Volume.Size
	var out []Resize
	for _, pvc := range claims {
		if pvc.Labels[LabelCluster] != c.Name || !isDataClaim(c, pvc.Name) {
			continue
		}
		have := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
		if have.Cmp(want) < 0 {
			out = append(out, Resize{Claim: pvc.Name, From: have, To: want,
				Reason: "spec.volume.size " + want.String() + " is larger than " + have.String()})
		}
	}
	return out
}

// isDataClaim: the StatefulSet names its PVCs <template>-<statefulset>-<ordinal>.
func isDataClaim(c *apiv1.PostgresCluster, name string) bool {
	prefix := dataVolume + "-" + c.Name + "-"
	if len(name) <= len(prefix) || name[:len(prefix)] != prefix {
		return false
	}
	for _, r := range name[len(prefix):] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
