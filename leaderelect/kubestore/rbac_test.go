package kubestore_test

import (
	"context"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/leaderelect/kubestore"
)

// TestMembersFencedToTheirCluster is issue #12 finding 5: with the old
// namespace-wide rules, member pg-0 of one cluster could take over
// another cluster's leader Lease, pause it through its ConfigMap, forge
// a heartbeat and label its pod primary. Under PolicyRules(cluster,
// members) every one of those is 403, while the member still writes its
// own cluster's objects.
func TestMembersFencedToTheirCluster(t *testing.T) {
	k := testenv.Shared(t)
	ns := k.Namespace(t)
	ctx := context.Background()
	admin := k.AdminClient()
	for _, c := range []string{"alpha", "beta"} {
		for _, obj := range []string{c + "-leader", c + "-member-" + c + "-0"} {
			if _, err := admin.CoordinationV1().Leases(ns).Create(ctx, &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Name: obj, Labels: map[string]string{kubestore.LabelCluster: c}},
				Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To(c + "-0")},
			}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := admin.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: c + "-config", Labels: map[string]string{kubestore.LabelCluster: c}},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{c + "-0", c + "-1"} {
			if _, err := admin.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: p, Labels: map[string]string{kubestore.LabelCluster: c}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "postgres", Image: "tenure:test"}}},
			}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg, err := k.ServiceAccountConfig(ctx, ns, "alpha", kubestore.PolicyRules("alpha", []string{"alpha-0", "alpha-1"}))
	if err != nil {
		t.Fatal(err)
	}
	a0, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	takeLease := func(name string) error {
		l, err := a0.CoordinationV1().Leases(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		l.Spec.HolderIdentity = ptr.To("alpha-0")
		_, err = a0.CoordinationV1().Leases(ns).Update(ctx, l, metav1.UpdateOptions{})
		return err
	}
	pause := func(name string) error {
		cm, err := a0.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		cm.Data = map[string]string{"config": `{"pause":true}`}
		_, err = a0.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
		return err
	}
	labelPrimary := func(pod string) error {
		_, err := a0.CoreV1().Pods(ns).Patch(ctx, pod, types.MergePatchType,
			[]byte(`{"metadata":{"labels":{"tenure.dev/role":"primary"}}}`), metav1.PatchOptions{})
		return err
	}
	forbidden := []struct {
		name string
		do   func() error
	}{
		{"take over beta's leader lease", func() error { return takeLease("beta-leader") }},
		{"forge beta-0's heartbeat", func() error { return takeLease("beta-member-beta-0") }},
		{"pause beta through its configmap", func() error { return pause("beta-config") }},
		{"label beta's pod primary", func() error { return labelPrimary("beta-0") }},
		{"delete beta's leader lease", func() error {
			return a0.CoordinationV1().Leases(ns).Delete(ctx, "beta-leader", metav1.DeleteOptions{})
		}},
		{"patch beta's lease", func() error {
			_, err := a0.CoordinationV1().Leases(ns).Patch(ctx, "beta-leader", types.MergePatchType,
				[]byte(`{"spec":{"holderIdentity":"alpha-0"}}`), metav1.PatchOptions{})
			return err
		}},
	}
	for _, f := range forbidden {
		if err := f.do(); !apierrors.IsForbidden(err) {
			t.Errorf("%s: %v, want 403 Forbidden", f.name, err)
		}
	}
	allowed := []struct {
		name string
		do   func() error
	}{
		{"renew its own leader lease", func() error { return takeLease("alpha-leader") }},
		{"write its own heartbeat", func() error { return takeLease("alpha-member-alpha-0") }},
		{"write its own configmap", func() error { return pause("alpha-config") }},
		{"label its own pod", func() error { return labelPrimary("alpha-0") }},
		{"unlabel a peer's pod", func() error { return labelPrimary("alpha-1") }},
		{"create a new member's heartbeat", func() error {
			_, err := a0.CoordinationV1().Leases(ns).Create(ctx, &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Name: "alpha-member-alpha-1"}}, metav1.CreateOptions{})
			return err
		}},
	}
	for _, a := range allowed {
		if err := a.do(); err != nil {
			t.Errorf("%s: %v, want allowed", a.name, err)
		}
	}
	if l, _ := admin.CoordinationV1().Leases(ns).Get(ctx, "beta-leader", metav1.GetOptions{}); l == nil || *l.Spec.HolderIdentity != "beta-0" {
		t.Errorf("beta's leader lease changed: %+v", l)
	}
}
