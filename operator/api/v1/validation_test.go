package v1_test

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/tenure-pg/tenure/deploy"
	"github.com/tenure-pg/tenure/internal/testenv"
	apiv1 "github.com/tenure-pg/tenure/operator/api/v1"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const good = `
apiVersion: tenure.dev/v1
kind: PostgresCluster
metadata:
  name: alpha
spec:
  numberOfInstances: 3
  postgresql:
    version: "15"
    parameters:
      work_mem: 64MB
  volume:
    size: 10Gi
  users:
  - name: app
`

func clusters(t *testing.T) dynamic.ResourceInterface {
	t.Helper()
	k := testenv.Shared(t)
	dyn, err := dynamic.NewForConfig(k.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := deploy.InstallCRD(t.Context(), dyn, "test"); err != nil {
		t.Fatal(err)
	}
	return dyn.Resource(apiv1.GroupVersionResource).Namespace(k.Namespace(t))
}

func parse(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestDefaults: what the apiserver fills in is what the builders expect.
func TestDefaults(t *testing.T) {
	got, err := clusters(t).Create(t.Context(), parse(t, good), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ha, _, _ := unstructured.NestedMap(got.Object, "spec", "ha")
	want := map[string]any{"ttl": int64(10), "loopWait": int64(5), "retryTimeout": int64(7),
		"maximumLagOnFailover": int64(1048576), "synchronousMode": "off", "synchronousNodeCount": int64(1)}
	for k, v := range want {
		if ha[k] != v {
			t.Errorf("spec.ha.%s = %v, want %v", k, ha[k], v)
		}
	}
}

// TestRefused: manifests the schema or a CEL rule refuses, each with the
// message a user sees, and nothing changed.
func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		create string // a whole manifest, or
		patch  string // a merge patch of the good one
		want   string
	}{
		{name: "no instances", patch: `{"spec":{"numberOfInstances":0}}`, want: "numberOfInstances must be at least 1"},
		{name: "negative instances", create: strings.Replace(good, "numberOfInstances: 3", "numberOfInstances: -1", 1), want: "numberOfInstances must be at least 1"},
		{name: "too many instances", patch: `{"spec":{"numberOfInstances":65}}`, want: "spec.numberOfInstances"},
		{name: "shrink volume", patch: `{"spec":{"volume":{"size":"5Gi"}}}`, want: "volume.size can only grow"},
		{name: "change version", patch: `{"spec":{"postgresql":{"version":"16"}}}`, want: "postgresql.version is immutable"},
		{name: "unknown version", create: strings.Replace(good, `version: "15"`, `version: "9.6"`, 1), want: "spec.postgresql.version"},
		{name: "duplicate user", create: good + "  - name: app\n", want: "users: each name may appear only once"},
		{name: "bad user name", create: good + "  - name: App-1\n", want: "spec.users[1].name"},
		{name: "unknown user flag", create: good + "  - name: b\n    flags: [god]\n", want: "spec.users[1].flags[0]"},
		{name: "retryTimeout not below ttl", patch: `{"spec":{"ha":{"ttl":10,"retryTimeout":10}}}`, want: "ha.retryTimeout must be less than ha.ttl"},
		{name: "retryTimeout too close to loopWait", patch: `{"spec":{"ha":{"ttl":30,"loopWait":10,"retryTimeout":10}}}`, want: "ha.retryTimeout must exceed 1.2"},
		{name: "unknown synchronous mode", patch: `{"spec":{"ha":{"synchronousMode":"quorum"}}}`, want: "spec.ha.synchronousMode"},
		{name: "comma in a parameter", patch: `{"spec":{"postgresql":{"parameters":{"shared_preload_libraries":"a,b"}}}}`, want: "spec.postgresql.parameters"},
		{name: "change storage class", patch: `{"spec":{"volume":{"storageClass":"fast"}}}`, want: "volume.storageClass is immutable"},
		{name: "no volume", create: strings.Replace(good, "  volume:\n    size: 10Gi\n", "", 1), want: "spec.volume"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := clusters(t)
			ctx := t.Context()
			var err error
			if tc.create != "" {
				_, err = c.Create(ctx, parse(t, tc.create), metav1.CreateOptions{})
			} else {
				before, cerr := c.Create(ctx, parse(t, good), metav1.CreateOptions{})
				if cerr != nil {
					t.Fatal(cerr)
				}
				_, err = c.Patch(ctx, "alpha", types.MergePatchType, []byte(tc.patch), metav1.PatchOptions{})
				after, gerr := c.Get(ctx, "alpha", metav1.GetOptions{})
				if gerr != nil {
					t.Fatal(gerr)
				}
				if after.GetResourceVersion() != before.GetResourceVersion() {
					t.Errorf("refused patch changed the object (resourceVersion %s → %s)", before.GetResourceVersion(), after.GetResourceVersion())
				}
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("got %v, want Invalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("message %q does not say %q", err, tc.want)
			}
			t.Logf("%v", err)
		})
	}
}

// TestGrowVolume: the other direction of the size rule is allowed.
func TestGrowVolume(t *testing.T) {
	c := clusters(t)
	if _, err := c.Create(t.Context(), parse(t, good), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Patch(t.Context(), "alpha", types.MergePatchType, []byte(`{"spec":{"volume":{"size":"20Gi"},"numberOfInstances":5}}`), metav1.PatchOptions{}); err != nil {
		t.Errorf("grow volume and scale: %v", err)
	}
}
