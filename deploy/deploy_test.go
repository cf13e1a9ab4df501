package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/tenure-pg/tenure/deploy"
	"github.com/tenure-pg/tenure/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// manifests are every YAML document under deploy/ by file.
func manifests(t *testing.T) map[string][]*unstructured.Unstructured {
	t.Helper()
	out := map[string][]*unstructured.Unstructured{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
		for {
			u := &unstructured.Unstructured{}
			err := dec.Decode(&u.Object)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Errorf("%s: %v", path, err)
				break
			}
			if len(u.Object) == 0 {
				continue
			}
			if u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" && u.GetKind() != "Kustomization" {
				t.Errorf("%s: a document without apiVersion, kind or name: %v", path, u.Object)
			}
			out[path] = append(out[path], u)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestManifestsParse: every YAML parses, kustomization.yaml lists every
// manifest outside examples/, and the operator runs its own image
// without pulling it needlessly.
func TestManifestsParse(t *testing.T) {
	all := manifests(t)
	var k struct {
		Resources []string `json:"resources"`
	}
	b, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &k); err != nil {
		t.Fatal(err)
	}
	for path := range all {
		if path == "kustomization.yaml" || strings.HasPrefix(path, "examples/") {
			continue
		}
		if !slices.Contains(k.Resources, path) {
			t.Errorf("%s is not in kustomization.yaml's resources", path)
		}
	}
	for _, r := range k.Resources {
		if _, ok := all[r]; !ok {
			t.Errorf("kustomization.yaml lists %s, which is not a manifest here", r)
		}
	}
	for _, u := range all["operator/deployment.yaml"] {
		var d appsv1.Deployment
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &d); err != nil {
			t.Fatal(err)
		}
		c := d.Spec.Template.Spec.Containers[0]
		if !strings.HasPrefix(c.Image, "tenure/operator:") || c.ImagePullPolicy != corev1.PullIfNotPresent {
			t.Errorf("operator container image %s pull %s", c.Image, c.ImagePullPolicy)
		}
	}
	if _, err := deploy.OperatorRules(); err != nil {
		t.Error(err)
	}
}

// TestManifestsApply: the real apiserver takes every manifest: the CRD
// and the example for real (in a test namespace), the rest as a
// server-side dry run, which validates them without installing them.
func TestManifestsApply(t *testing.T) {
	if testing.Short() {
		t.Skip("needs kube-apiserver")
	}
	k := testenv.Shared(t)
	ctx := t.Context()
	dyn, err := dynamic.NewForConfig(k.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := deploy.InstallCRD(ctx, dyn, "test"); err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(k.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	ns := k.Namespace(t)
	for path, docs := range manifests(t) {
		if path == "kustomization.yaml" {
			continue
		}
		for _, u := range docs {
			gvk := u.GroupVersionKind()
			m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if err != nil {
				t.Errorf("%s %s: %v", path, gvk, err)
				continue
			}
			opts := metav1.ApplyOptions{FieldManager: "test", Force: true}
			if !strings.HasPrefix(path, "examples/") && gvk.Kind != "CustomResourceDefinition" {
				opts.DryRun = []string{metav1.DryRunAll}
			}
			var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
			if m.Scope.Name() == "namespace" {
				u.SetNamespace(ns) // a dry run cannot create tenure-system first
				ri = dyn.Resource(m.Resource).Namespace(u.GetNamespace())
			}
			if _, err := ri.Apply(ctx, u.GetName(), u, opts); err != nil {
				t.Errorf("%s: apply %s %s: %v", path, gvk.Kind, u.GetName(), err)
			}
		}
	}
}
