package build_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	apiv1 "github.com/tenure-pg/tenure/operator/api/v1"
	"github.com/tenure-pg/tenure/operator/build"
)

var update = flag.Bool("update", false, "rewrite testdata/*.yaml from the builders")

// cluster is a PostgresCluster as the apiserver returns it: defaults applied.
func cluster(mod ...func(*apiv1.PostgresCluster)) *apiv1.PostgresCluster {
	c := &apiv1.PostgresCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "alpha", Namespace: "db", UID: "5b0c2a7e-0000-4000-8000-000000000001", Generation: 1},
		Spec: apiv1.PostgresClusterSpec{
			NumberOfInstances: 3,
			PostgreSQL:        apiv1.PostgreSQLSpec{Version: "15"},
			Volume:            apiv1.VolumeSpec{Size: resource.MustParse("10Gi")},
			HA: apiv1.HASpec{TTL: 10, LoopWait: 5, RetryTimeout: 7, MaximumLagOnFailover: 1 << 20,
				SynchronousMode: apiv1.SynchronousOff, SynchronousNodeCount: 1},
		},
	}
	for _, m := range mod {
		m(c)
	}
	return c
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    *apiv1.PostgresCluster
	}{
		{"minimal", cluster()},
		{"tuned", cluster(func(c *apiv1.PostgresCluster) {
			c.Spec.NumberOfInstances = 5
			c.Spec.Image = "registry.example/tenure/postgres:15-custom"
			c.Spec.Volume = apiv1.VolumeSpec{Size: resource.MustParse("100Gi"), StorageClass: ptr.To("gp3")}
			c.Spec.PostgreSQL.Parameters = map[string]apiv1.ParameterValue{"work_mem": "64MB", "max_connections": "200"}
			c.Spec.Resources = &corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("2Gi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")},
			}
			c.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "db", Effect: corev1.TaintEffectNoSchedule}}
			c.Spec.NodeAffinity = &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{
					{Key: "node.kubernetes.io/instance-type", Operator: corev1.NodeSelectorOpIn, Values: []string{"m6i.large"}},
				}}},
			}}
			c.Spec.PodPriorityClassName = "db-critical"
			c.Spec.PodAnnotations = map[string]string{"prometheus.io/scrape": "true"}
			c.Spec.Env = []corev1.EnvVar{
				{Name: "TZ", Value: "UTC"},
				{Name: "PGDATA", Value: "/elsewhere"}, // shadows the agent's: dropped
				{Name: "AWS_ACCESS_KEY_ID", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "s3"}, Key: "key"}}},
			}
			c.Spec.HA = apiv1.HASpec{TTL: 30, LoopWait: 10, RetryTimeout: 15, MaximumLagOnFailover: 0,
				SynchronousMode: apiv1.SynchronousStrict, SynchronousNodeCount: 2, FailsafeMode: true}
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.c)
			path := filepath.Join("testdata", tc.name+".yaml")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if d := cmp.Diff(string(want), string(got)); d != "" {
				t.Errorf("%s differs (-want +got; go test -update rewrites):\n%s", path, d)
			}
		})
	}
}

// render is every object the builders make for c, as one YAML stream.
func render(t *testing.T, c *apiv1.PostgresCluster) []byte {
	t.Helper()
	opts := build.Options{Image: "tenure/postgres:15"}
	objs := []runtime.Object{build.StatefulSet(c, opts)}
	for _, s := range build.Services(c) {
		objs = append(objs, s)
	}
	objs = append(objs, build.ServiceAccount(c), build.Role(c), build.RoleBinding(c), build.PodDisruptionBudget(c))
	secrets, err := build.Secrets(c, bytes.NewReader(bytes.Repeat([]byte{7}, 1024)))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		objs = append(objs, s)
	}
	var out bytes.Buffer
	for _, o := range objs {
		b, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		out.WriteString("---\n")
		out.Write(b)
	}
	return out.Bytes()
}

func TestNoOwnerOnClaims(t *testing.T) {
	sts := build.StatefulSet(cluster(), build.Options{})
	for _, pvc := range sts.Spec.VolumeClaimTemplates {
		if len(pvc.OwnerReferences) != 0 {
			t.Errorf("claim template %s has owner references %v: the PVCs would die with the cluster", pvc.Name, pvc.OwnerReferences)
		}
	}
	if len(sts.OwnerReferences) != 1 || sts.OwnerReferences[0].UID != "5b0c2a7e-0000-4000-8000-000000000001" {
		t.Errorf("StatefulSet owner references %v, want the cluster", sts.OwnerReferences)
	}
}

func TestSecretsAreRandom(t *testing.T) {
	a, err := build.Secrets(cluster(), bytes.NewReader(bytes.Repeat([]byte{1}, 1024)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := build.Secrets(cluster(), bytes.NewReader(bytes.Repeat([]byte{2}, 1024)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if cmp.Equal(a[i].StringData, b[i].StringData) {
			t.Errorf("%s: same data from different randomness", a[i].Name)
		}
	}
	if _, err := build.Secrets(cluster(), bytes.NewReader(nil)); err == nil {
		t.Error("Secrets with no randomness: no error")
	}
}
