package build_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/tenure-pg/tenure/operator/api/v1"
	"github.com/tenure-pg/tenure/operator/build"
)

func claim(name, cluster, size string) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{build.LabelCluster: cluster}},
		Spec: corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)},
		}},
	}
}

func TestResizes(t *testing.T) {
	c := cluster(func(c *apiv1.PostgresCluster) { c.Spec.Volume.Size = resource.MustParse("20Gi") })
	for _, tc := range []struct {
		name   string
		claims []*corev1.PersistentVolumeClaim
		want   []string
	}{
		{"none", nil, nil},
		{"smaller grows", []*corev1.PersistentVolumeClaim{claim("pgdata-alpha-0", "alpha", "10Gi")}, []string{"pgdata-alpha-0"}},
		{"equal stays", []*corev1.PersistentVolumeClaim{claim("pgdata-alpha-0", "alpha", "20Gi")}, nil},
		{"same size in other units stays", []*corev1.PersistentVolumeClaim{claim("pgdata-alpha-0", "alpha", "20480Mi")}, nil},
		{"larger never shrinks", []*corev1.PersistentVolumeClaim{claim("pgdata-alpha-1", "alpha", "30Gi")}, nil},
		{"another cluster's claim", []*corev1.PersistentVolumeClaim{claim("pgdata-alpha-0", "beta", "10Gi")}, nil},
		{"a prefix-sharing cluster", []*corev1.PersistentVolumeClaim{claim("pgdata-alpha-x-0", "alpha", "10Gi")}, nil},
		{"another template", []*corev1.PersistentVolumeClaim{claim("wal-alpha-0", "alpha", "10Gi")}, nil},
		{"only the small ones", []*corev1.PersistentVolumeClaim{
			claim("pgdata-alpha-0", "alpha", "20Gi"), claim("pgdata-alpha-1", "alpha", "10Gi"), claim("pgdata-alpha-2", "alpha", "1Gi"),
		}, []string{"pgdata-alpha-1", "pgdata-alpha-2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range build.Resizes(c, tc.claims) {
				got = append(got, r.Claim)
				if r.To.Cmp(resource.MustParse("20Gi")) != 0 {
					t.Errorf("%s resized to %s", r.Claim, r.To.String())
				}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
