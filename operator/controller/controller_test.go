package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/yaml"

	"github.com/tenure-pg/tenure/deploy"
	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/leaderelect/kubestore"
	apiv1 "github.com/tenure-pg/tenure/operator/api/v1"
	"github.com/tenure-pg/tenure/operator/build"
	"github.com/tenure-pg/tenure/operator/controller"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// env is a namespace with the CRD installed and, when started, a
// controller watching it under exactly the operator's ClusterRole rules.
type env struct {
	t     *testing.T
	ns    string
	admin kubernetes.Interface
	dyn   dynamic.Interface
}

func newEnv(t *testing.T, runController bool) *env {
	t.Helper()
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
	e := &env{t: t, ns: k.Namespace(t), admin: k.AdminClient(), dyn: dyn}
	if !runController {
		return e
	}
	rules, err := deploy.OperatorRules()
	if err != nil {
		t.Fatal(err)
	}
	// The operator's ClusterRole, granted as a Role in the namespace: a
	// right missing from deploy/operator/rbac.yaml fails here.
	cfg, err := k.ServiceAccountConfig(ctx, e.ns, "tenure-operator", rules)
	if err != nil {
		t.Fatal(err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	opDyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cc := controller.Default()
	cc.Namespace, cc.Resync = e.ns, time.Minute
	ctrl, err := controller.New(cc, kube, opDyn, hclog.New(&hclog.LoggerOptions{Name: "operator", Output: testWriter{t}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ctrl.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controller: %v", err)
		}
	})
	return e
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

const manifest = `
apiVersion: tenure.dev/v1
kind: PostgresCluster
metadata:
  name: alpha
spec:
  numberOfInstances: 3
  postgresql:
    version: "15"
  volume:
    size: 10Gi
  users:
  - name: app
    flags: [login, createdb]
`

func (e *env) clusters() dynamic.ResourceInterface {
	return e.dyn.Resource(apiv1.GroupVersionResource).Namespace(e.ns)
}

func (e *env) create(doc string) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		e.t.Fatal(err)
	}
	return e.clusters().Create(e.t.Context(), u, metav1.CreateOptions{})
}

func (e *env) mustCreate(doc string) *unstructured.Unstructured {
	u, err := e.create(doc)
	if err != nil {
		e.t.Fatalf("create cluster: %v", err)
	}
	return u
}

func (e *env) patch(name, patch string) error {
	_, err := e.clusters().Patch(e.t.Context(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	return err
}

func (e *env) statefulSet(name string, cond func(*appsv1.StatefulSet) bool) *appsv1.StatefulSet {
	var sts *appsv1.StatefulSet
	testenv.Eventually(e.t, 20*time.Second, "StatefulSet "+name, func() bool {
		s, err := e.admin.AppsV1().StatefulSets(e.ns).Get(e.t.Context(), name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		sts = s
		return cond(s)
	})
	return sts
}

func TestClusterObjects(t *testing.T) {
	e := newEnv(t, true)
	ctx := t.Context()
	pc := e.mustCreate(manifest)
	owner := metav1.OwnerReference{APIVersion: "tenure.dev/v1", Kind: "PostgresCluster", Name: "alpha",
		UID: pc.GetUID(), Controller: ptrTo(true), BlockOwnerDeletion: ptrTo(true)}
	owned := func(what string, m metav1.Object) {
		t.Helper()
		if d := cmp.Diff([]metav1.OwnerReference{owner}, m.GetOwnerReferences()); d != "" {
			t.Errorf("%s owner references (-want +got):\n%s", what, d)
		}
		if m.GetLabels()[build.LabelCluster] != "alpha" {
			t.Errorf("%s labels %v: no %s=alpha", what, m.GetLabels(), build.LabelCluster)
		}
	}

	sts := e.statefulSet("alpha", func(*appsv1.StatefulSet) bool { return true })
	owned("StatefulSet", sts)
	if *sts.Spec.Replicas != 3 || sts.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType {
		t.Errorf("StatefulSet replicas %d, strategy %s", *sts.Spec.Replicas, sts.Spec.UpdateStrategy.Type)
	}
	for _, vct := range sts.Spec.VolumeClaimTemplates {
		if len(vct.OwnerReferences) != 0 {
			t.Errorf("claim template %s is owned (%v): its PVCs would be deleted with the cluster", vct.Name, vct.OwnerReferences)
		}
	}
	if p := sts.Spec.PersistentVolumeClaimRetentionPolicy; p == nil || p.WhenDeleted != appsv1.RetainPersistentVolumeClaimRetentionPolicyType {
		t.Errorf("PVC retention policy %+v, want Retain", p)
	}
	c := sts.Spec.Template.Spec.Containers[0]
	if c.ImagePullPolicy != corev1.PullIfNotPresent || c.ReadinessProbe.HTTPGet.Path != "/readiness" || c.LivenessProbe.HTTPGet.Path != "/liveness" {
		t.Errorf("container %s: pull %s, probes %v %v", c.Name, c.ImagePullPolicy, c.ReadinessProbe, c.LivenessProbe)
	}

	for name, role := range map[string]string{"alpha": "primary", "alpha-repl": "replica", "alpha-pods": ""} {
		svc, err := e.admin.CoreV1().Services(e.ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Errorf("Service %s: %v", name, err)
			continue
		}
		owned("Service "+name, svc)
		if svc.Spec.Selector[build.LabelRole] != role {
			t.Errorf("Service %s selects role %q, want %q", name, svc.Spec.Selector[build.LabelRole], role)
		}
	}
	if svc, err := e.admin.CoreV1().Services(e.ns).Get(ctx, "alpha-pods", metav1.GetOptions{}); err == nil &&
		(svc.Spec.ClusterIP != corev1.ClusterIPNone || !svc.Spec.PublishNotReadyAddresses) {
		t.Errorf("alpha-pods: clusterIP %q publishNotReady %t, want headless", svc.Spec.ClusterIP, svc.Spec.PublishNotReadyAddresses)
	}
	for _, name := range []string{"alpha-api-token", "alpha-superuser", "alpha-replication"} {
		s, err := e.admin.CoreV1().Secrets(e.ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Errorf("Secret %s: %v", name, err)
			continue
		}
		owned("Secret "+name, s)
	}
	sa, err := e.admin.CoreV1().ServiceAccounts(e.ns).Get(ctx, "alpha", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	owned("ServiceAccount", sa)
	role, err := e.admin.RbacV1().Roles(e.ns).Get(ctx, "alpha", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	owned("Role", role)
	if d := cmp.Diff(kubestore.PolicyRules("alpha", []string{"alpha-0", "alpha-1", "alpha-2"}), role.Rules); d != "" {
		t.Errorf("Role rules (-want +got):\n%s", d)
	}
	rb, err := e.admin.RbacV1().RoleBindings(e.ns).Get(ctx, "alpha", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	owned("RoleBinding", rb)
	pdb, err := e.admin.PolicyV1().PodDisruptionBudgets(e.ns).Get(ctx, "alpha", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	owned("PodDisruptionBudget", pdb)

	testenv.Eventually(t, 10*time.Second, "SecretCreated events on the cluster", func() bool {
		evs, err := e.admin.CoreV1().Events(e.ns).List(ctx, metav1.ListOptions{})
		n := 0
		for _, ev := range evs.Items {
			if err == nil && ev.InvolvedObject.Kind == "PostgresCluster" && ev.InvolvedObject.Name == "alpha" && ev.Reason == "SecretCreated" {
				n++
			}
		}
		return n == 3
	})

	st := e.status("alpha", func(s apiv1.PostgresClusterStatus) bool { return s.ObservedGeneration == 1 })
	if st.Phase != apiv1.PhaseCreating || st.Selector != "app.kubernetes.io/name=tenure,tenure.dev/cluster=alpha" {
		t.Errorf("status %+v, want phase Creating and the pods' selector", st)
	}
}

// table is the cluster's row as kubectl get pgc prints it (the
// apiserver renders the CRD's printer columns), without AGE.
func (e *env) table(name string) []string {
	e.t.Helper()
	cfg := testenv.Shared(e.t).AdminConfig()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), http.MethodGet,
		cfg.Host+"/apis/tenure.dev/v1/namespaces/"+e.ns+"/postgresclusters/"+name, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tbl metav1.Table
	if err := json.NewDecoder(resp.Body).Decode(&tbl); err != nil {
		e.t.Fatal(err)
	}
	var cols []string
	for _, c := range tbl.ColumnDefinitions {
		cols = append(cols, c.Name)
	}
	if want := []string{"Name", "Ready", "Instances", "Primary", "Version", "Phase", "Age"}; !cmp.Equal(cols, want) {
		e.t.Errorf("columns %v, want %v", cols, want)
	}
	if len(tbl.Rows) != 1 {
		e.t.Fatalf("%d rows", len(tbl.Rows))
	}
	var row []string
	for _, c := range tbl.Rows[0].Cells[:len(tbl.Rows[0].Cells)-1] {
		row = append(row, fmt.Sprint(c))
	}
	e.t.Logf("kubectl get pgc: %v / %v", cols, tbl.Rows[0].Cells)
	return row
}

func ptrTo[T any](v T) *T { return &v }

func (e *env) status(name string, cond func(apiv1.PostgresClusterStatus) bool) apiv1.PostgresClusterStatus {
	var st apiv1.PostgresClusterStatus
	testenv.Eventually(e.t, 20*time.Second, "status of "+name, func() bool {
		u, err := e.clusters().Get(e.t.Context(), name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		m, _, _ := unstructured.NestedMap(u.Object, "status")
		b, _ := yaml.Marshal(m)
		st = apiv1.PostgresClusterStatus{}
		if err := yaml.Unmarshal(b, &st); err != nil {
			e.t.Fatal(err)
		}
		return cond(st)
	})
	return st
}

func TestStatusFollowsStatefulSetAndPrimary(t *testing.T) {
	e := newEnv(t, true)
	ctx := t.Context()
	e.mustCreate(manifest)
	e.statefulSet("alpha", func(*appsv1.StatefulSet) bool { return true })
	// No kubelet here: play the StatefulSet controller and the agents.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sts, err := e.admin.AppsV1().StatefulSets(e.ns).Get(ctx, "alpha", metav1.GetOptions{})
		if err != nil {
			return err
		}
		sts.Status.Replicas, sts.Status.ReadyReplicas, sts.Status.AvailableReplicas = 3, 3, 3
		_, err = e.admin.AppsV1().StatefulSets(e.ns).UpdateStatus(ctx, sts, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "alpha-1", Labels: map[string]string{build.LabelCluster: "alpha", build.LabelRole: build.RolePrimary}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "postgres", Image: "x"}}},
	}
	if _, err := e.admin.CoreV1().Pods(e.ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	st := e.status("alpha", func(s apiv1.PostgresClusterStatus) bool { return s.Phase == apiv1.PhaseRunning })
	if st.CurrentPrimary != "alpha-1" || st.ReadyInstances != 3 {
		t.Errorf("status %+v, want primary alpha-1 and 3 ready", st)
	}
	if d := cmp.Diff([]string{"alpha", "3", "3", "alpha-1", "15", "Running"}, e.table("alpha")); d != "" {
		t.Errorf("kubectl get pgc row (-want +got, age column dropped):\n%s", d)
	}
	// The agent moves the label away (a failover in progress): Degraded.
	if _, err := e.admin.CoreV1().Pods(e.ns).Patch(ctx, "alpha-1", types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"tenure.dev/role":null}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	st = e.status("alpha", func(s apiv1.PostgresClusterStatus) bool { return s.Phase == apiv1.PhaseDegraded })
	if st.CurrentPrimary != "" {
		t.Errorf("currentPrimary %q with no pod labelled primary", st.CurrentPrimary)
	}
}

func TestScaleSubresource(t *testing.T) {
	e := newEnv(t, true)
	ctx := t.Context()
	e.mustCreate(manifest)
	e.statefulSet("alpha", func(*appsv1.StatefulSet) bool { return true })
	before, err := e.admin.CoreV1().Secrets(e.ns).Get(ctx, "alpha-superuser", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// As kubectl scale: read the scale, write it back, again on a conflict
	// (the operator writes the status concurrently).
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		scale, err := e.clusters().Get(ctx, "alpha", metav1.GetOptions{}, "scale")
		if err != nil {
			return err
		}
		if err := unstructured.SetNestedField(scale.Object, int64(5), "spec", "replicas"); err != nil {
			return err
		}
		_, err = e.clusters().Update(ctx, scale, metav1.UpdateOptions{}, "scale")
		return err
	})
	if err != nil {
		t.Fatalf("kubectl scale --replicas=5: %v", err)
	}
	e.statefulSet("alpha", func(s *appsv1.StatefulSet) bool { return *s.Spec.Replicas == 5 })
	testenv.Eventually(t, 10*time.Second, "Role for 5 members", func() bool {
		r, err := e.admin.RbacV1().Roles(e.ns).Get(ctx, "alpha", metav1.GetOptions{})
		return err == nil && cmp.Equal(r.Rules, kubestore.PolicyRules("alpha", build.Members("alpha", 5)))
	})
	after, err := e.admin.CoreV1().Secrets(e.ns).Get(ctx, "alpha-superuser", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(after.Data["password"]) != string(before.Data["password"]) || after.ResourceVersion != before.ResourceVersion {
		t.Error("the superuser Secret changed on a reconcile")
	}
	testenv.Eventually(t, 10*time.Second, "scale status.selector", func() bool {
		got, err := e.clusters().Get(ctx, "alpha", metav1.GetOptions{}, "scale")
		sel, _, _ := unstructured.NestedString(got.Object, "status", "selector")
		return err == nil && sel == "app.kubernetes.io/name=tenure,tenure.dev/cluster=alpha"
	})
}

// TestOthersFieldsSurvive: server-side apply owns only the operator's
// fields; an annotation added by a user stays through reconciles.
func TestOthersFieldsSurvive(t *testing.T) {
	e := newEnv(t, true)
	ctx := t.Context()
	e.mustCreate(manifest)
	e.statefulSet("alpha", func(*appsv1.StatefulSet) bool { return true })
	if _, err := e.admin.CoreV1().Services(e.ns).Patch(ctx, "alpha", types.MergePatchType,
		[]byte(`{"metadata":{"annotations":{"example.com/owner":"team-db"}}}`), metav1.PatchOptions{FieldManager: "kubectl"}); err != nil {
		t.Fatal(err)
	}
	if err := e.patch("alpha", `{"spec":{"numberOfInstances":4}}`); err != nil {
		t.Fatal(err)
	}
	e.statefulSet("alpha", func(s *appsv1.StatefulSet) bool { return *s.Spec.Replicas == 4 })
	svc, err := e.admin.CoreV1().Services(e.ns).Get(ctx, "alpha", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Annotations["example.com/owner"] != "team-db" {
		t.Errorf("annotation lost: %v", svc.Annotations)
	}
}

// TestVolumeGrows: a larger volume.size patches the existing PVCs (which
// the StatefulSet's immutable claim template cannot), and a storage class
// that cannot expand is reported in the VolumeResized condition. There is
// no StatefulSet controller here, so the test makes the PVCs it would.
func TestVolumeGrows(t *testing.T) {
	e := newEnv(t, true)
	ctx := t.Context()
	for class, expand := range map[string]bool{e.ns + "-expandable": true, e.ns + "-fixed": false} {
		sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: class}, Provisioner: "example.com/disk", AllowVolumeExpansion: ptrTo(expand)}
		if _, err := e.admin.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = e.admin.StorageV1().StorageClasses().Delete(context.Background(), class, metav1.DeleteOptions{})
		})
	}
	for cluster, class := range map[string]string{"alpha": e.ns + "-expandable", "beta": e.ns + "-fixed"} {
		e.mustCreate(strings.ReplaceAll(strings.Replace(manifest, "size: 10Gi", "size: 10Gi\n    storageClass: "+class, 1), "alpha", cluster))
		sts := e.statefulSet(cluster, func(*appsv1.StatefulSet) bool { return true })
		tmpl := sts.Spec.VolumeClaimTemplates[0]
		pvc := &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: "pgdata-" + cluster + "-0", Labels: tmpl.Labels},
			Spec:       *tmpl.Spec.DeepCopy(),
		}
		pvc.Spec.VolumeName = "pv-" + e.ns + "-" + cluster
		pvc, err := e.admin.CoreV1().PersistentVolumeClaims(e.ns).Create(ctx, pvc, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pvc.Status.Phase = corev1.ClaimBound
		pvc.Status.Capacity = pvc.Spec.Resources.Requests
		if _, err := e.admin.CoreV1().PersistentVolumeClaims(e.ns).UpdateStatus(ctx, pvc, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := e.patch(cluster, `{"spec":{"volume":{"size":"20Gi"}}}`); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 20*time.Second, "pgdata-alpha-0 grows to 20Gi", func() bool {
		p, err := e.admin.CoreV1().PersistentVolumeClaims(e.ns).Get(ctx, "pgdata-alpha-0", metav1.GetOptions{})
		q := p.Spec.Resources.Requests[corev1.ResourceStorage]
		return err == nil && q.String() == "20Gi"
	})
	st := e.status("beta", func(s apiv1.PostgresClusterStatus) bool {
		c := meta.FindStatusCondition(s.Conditions, apiv1.ConditionVolumeResized)
		return c != nil && c.Status == metav1.ConditionFalse
	})
	t.Logf("beta: %s", meta.FindStatusCondition(st.Conditions, apiv1.ConditionVolumeResized).Message)
	st = e.status("alpha", func(s apiv1.PostgresClusterStatus) bool { return s.ObservedGeneration == 2 })
	if c := meta.FindStatusCondition(st.Conditions, apiv1.ConditionVolumeResized); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("alpha VolumeResized %+v", c)
	}
	// The StatefulSet keeps its immutable claim template.
	sts := e.statefulSet("alpha", func(*appsv1.StatefulSet) bool { return true })
	if q := sts.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage]; q.String() != "10Gi" {
		t.Errorf("claim template %s", q.String())
	}
}

// TestDeleteProtection: an annotated cluster survives kubectl delete,
// with its objects, until the annotation goes.
func TestDeleteProtection(t *testing.T) {
	e := newEnv(t, true)
	ctx := t.Context()
	e.mustCreate(strings.Replace(manifest, "name: alpha", "name: alpha\n  annotations: {tenure.dev/delete-protect: \"true\"}", 1))
	testenv.Eventually(t, 20*time.Second, "finalizer added", func() bool {
		u, err := e.clusters().Get(ctx, "alpha", metav1.GetOptions{})
		return err == nil && slices.Contains(u.GetFinalizers(), apiv1.FinalizerDeleteProtect)
	})
	if err := e.clusters().Delete(ctx, "alpha", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	u, err := e.clusters().Get(ctx, "alpha", metav1.GetOptions{})
	if err != nil || u.GetDeletionTimestamp() == nil {
		t.Fatalf("protected cluster after delete: %v, %v", u, err)
	}
	if err := e.patch("alpha", `{"metadata":{"annotations":{"tenure.dev/delete-protect":null}}}`); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, "cluster deleted once unprotected", func() bool {
		_, err := e.clusters().Get(ctx, "alpha", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
}

// TestInvalidParametersChangeNothing: a spec edit adding a parameter the
// agents refuse is reported (SpecValid=False) and applies nothing, so
// the running StatefulSet keeps its pods' last good arguments.
func TestInvalidParametersChangeNothing(t *testing.T) {
	e := newEnv(t, true)
	e.mustCreate(manifest)
	before := e.statefulSet("alpha", func(*appsv1.StatefulSet) bool { return true })
	if err := e.patch("alpha", `{"spec":{"numberOfInstances":4,"postgresql":{"parameters":{"archive_command":"touch x-%f"}}}}`); err != nil {
		t.Fatal(err)
	}
	st := e.status("alpha", func(s apiv1.PostgresClusterStatus) bool {
		c := meta.FindStatusCondition(s.Conditions, apiv1.ConditionSpecValid)
		return c != nil && c.Status == metav1.ConditionFalse
	})
	c := meta.FindStatusCondition(st.Conditions, apiv1.ConditionSpecValid)
	if !strings.Contains(c.Message, "archive_command") {
		t.Errorf("SpecValid message %q does not name the parameter", c.Message)
	}
	after := e.statefulSet("alpha", func(*appsv1.StatefulSet) bool { return true })
	if *after.Spec.Replicas != *before.Spec.Replicas || after.ResourceVersion != before.ResourceVersion {
		t.Errorf("StatefulSet changed by an invalid spec: replicas %d → %d", *before.Spec.Replicas, *after.Spec.Replicas)
	}
}
