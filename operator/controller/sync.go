package controller

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	apiv1 "github.com/tenure-pg/tenure/operator/api/v1"
	"github.com/tenure-pg/tenure/operator/build"
)

var (
	gvrStatefulSet    = appsv1.SchemeGroupVersion.WithResource("statefulsets")
	gvrService        = corev1.SchemeGroupVersion.WithResource("services")
	gvrServiceAccount = corev1.SchemeGroupVersion.WithResource("serviceaccounts")
	gvrRole           = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}
	gvrRoleBinding    = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}
	gvrPDB            = schema.GroupVersionResource{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"}
)

type desired struct {
	gvr schema.GroupVersionResource
	obj runtime.Object
}

// sync makes the cluster's objects match its spec and writes its status.
// A deleted cluster needs nothing: its objects are garbage-collected by
// their owner references, and its PVCs are kept.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // a malformed key never becomes valid
	}
	pc, err := c.cluster(ns, name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := c.protect(ctx, pc); err != nil {
		return err
	}
	if pc.DeletionTimestamp != nil {
		return nil
	}
	// The agents' identity and rights come first: a new member must be
	// able to write its Lease when the StatefulSet creates its pod.
	if err := ValidateSpec(pc); err != nil {
		// Level-triggered: the next edit of the spec brings it back.
		c.events.Eventf(pc, corev1.EventTypeWarning, "InvalidSpec", "%v; nothing applied", err)
		return c.writeStatus(ctx, pc, "", err.Error())
	}
	if err := c.ensureSecrets(ctx, pc); err != nil {
		return err
	}
	objs := desiredObjects(pc, c.cfg)
	if err := c.keepClaimTemplates(objs); err != nil {
		return err
	}
	for _, d := range objs {
		if err := c.apply(ctx, d.gvr, d.obj); err != nil {
			return err
		}
	}
	refused, err := c.resizeClaims(ctx, pc)
	if err != nil {
		return err
	}
	return c.writeStatus(ctx, pc, refused, "")
}

// resizeClaims grows the cluster's PVCs to spec.volume.size, online: the
// StatefulSet's claim templates are immutable, so the PVCs are patched
// one by one. A refusal (a storage class without allowVolumeExpansion, an
// unbound claim) is reported in the status, not retried in a hot loop;
// the next spec change or resync tries again.
func (c *Controller) resizeClaims(ctx context.Context, pc *apiv1.PostgresCluster) (refused string, err error) {
	sel := labels.SelectorFromSet(labels.Set{build.LabelCluster: pc.Name})
	claims, err := c.claims.PersistentVolumeClaims(pc.Namespace).List(sel)
	if err != nil {
		return "", err
	}
	for _, r := range build.Resizes(pc, claims) {
		patch := fmt.Sprintf(`{"spec":{"resources":{"requests":{"storage":%q}}}}`, r.To.String())
		_, err := c.kube.CoreV1().PersistentVolumeClaims(pc.Namespace).Patch(ctx, r.Claim, types.MergePatchType,
			[]byte(patch), metav1.PatchOptions{FieldManager: build.ManagedBy})
		switch {
		case apierrors.IsForbidden(err) || apierrors.IsInvalid(err):
			refused = fmt.Sprintf("resize %s from %s to %s refused: %v", r.Claim, r.From.String(), r.To.String(), err)
			c.log.Warn("volume resize refused", "cluster", pc.Namespace+"/"+pc.Name, "claim", r.Claim, "error", err)
			c.events.Eventf(pc, corev1.EventTypeWarning, "ResizeRefused", "%s", refused)
		case err != nil:
			return "", fmt.Errorf("resize %s: %w", r.Claim, err)
		default:
			c.log.Info("volume resized", "cluster", pc.Namespace+"/"+pc.Name, "claim", r.Claim, "from", r.From.String(), "to", r.To.String())
			c.events.Eventf(pc, corev1.EventTypeNormal, "VolumeResized", "PVC %s: %s → %s", r.Claim, r.From.String(), r.To.String())
		}
	}
	return refused, nil
}

// desiredObjects are the applied objects in the order they are applied.
func desiredObjects(pc *apiv1.PostgresCluster, cfg Config) []desired {
	out := []desired{
		{gvrServiceAccount, build.ServiceAccount(pc)},
		{gvrRole, build.Role(pc)},
		{gvrRoleBinding, build.RoleBinding(pc)},
	}
	for _, s := range build.Services(pc) {
		out = append(out, desired{gvrService, s})
	}
	return append(out,
		desired{gvrPDB, build.PodDisruptionBudget(pc)},
		desired{gvrStatefulSet, build.StatefulSet(pc, cfg.Build)},
	)
}

// keepClaimTemplates puts an existing StatefulSet's volumeClaimTemplates
// into the desired one: the field is immutable, so a grown volume.size
// would make every apply fail. Existing PVCs are resized one by one
// instead (not yet done).
func (c *Controller) keepClaimTemplates(objs []desired) error {
	for _, d := range objs {
		want, ok := d.obj.(*appsv1.StatefulSet)
		if !ok {
			continue
		}
		have, err := c.statefulSets.StatefulSets(want.Namespace).Get(want.Name)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		want.Spec.VolumeClaimTemplates = nil
		for _, t := range have.Spec.VolumeClaimTemplates {
			t = *t.DeepCopy()
			t.Status = corev1.PersistentVolumeClaimStatus{}
			want.Spec.VolumeClaimTemplates = append(want.Spec.VolumeClaimTemplates, t)
		}
	}
	return nil
}

// cluster reads a PostgresCluster from the lister as a typed copy.
func (c *Controller) cluster(ns, name string) (*apiv1.PostgresCluster, error) {
	obj, err := c.clusters.ByNamespace(ns).Get(name)
	if err != nil {
		return nil, err
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("cluster %s/%s: unexpected %T", ns, name, obj)
	}
	pc := &apiv1.PostgresCluster{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.UnstructuredContent(), pc); err != nil {
		return nil, fmt.Errorf("decode cluster %s/%s: %w", ns, name, err)
	}
	return pc, nil
}

// writeStatus writes the status when it changed.
func (c *Controller) writeStatus(ctx context.Context, pc *apiv1.PostgresCluster, resizeRefused, specErr string) error {
	sts, err := c.statefulSets.StatefulSets(pc.Namespace).Get(pc.Name)
	if apierrors.IsNotFound(err) {
		sts, err = nil, nil
	}
	if err != nil {
		return err
	}
	primary, err := c.primary(pc)
	if err != nil {
		return err
	}
	next := Status(pc, Observed{StatefulSet: sts, Primary: primary, ResizeRefused: resizeRefused, SpecError: specErr, Now: metav1.Now()})
	if equality.Semantic.DeepEqual(next, pc.Status) {
		return nil
	}
	updated := pc.DeepCopy()
	updated.Status = next
	updated.APIVersion, updated.Kind = apiv1.SchemeGroupVersion.String(), apiv1.Kind
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(updated)
	if err != nil {
		return err
	}
	_, err = c.dyn.Resource(apiv1.GroupVersionResource).Namespace(pc.Namespace).
		UpdateStatus(ctx, &unstructured.Unstructured{Object: m}, metav1.UpdateOptions{FieldManager: build.ManagedBy})
	if err != nil {
		return fmt.Errorf("update status of %s/%s: %w", pc.Namespace, pc.Name, err)
	}
	if next.Phase != pc.Status.Phase {
		c.events.Eventf(pc, corev1.EventTypeNormal, string(next.Phase), "phase %s → %s: %d/%d ready, primary %q",
			pc.Status.Phase, next.Phase, next.ReadyInstances, pc.Spec.NumberOfInstances, next.CurrentPrimary)
		c.log.Info("phase", "cluster", pc.Namespace+"/"+pc.Name, "from", pc.Status.Phase, "to", next.Phase,
			"ready", next.ReadyInstances, "instances", pc.Spec.NumberOfInstances, "primary", next.CurrentPrimary)
	}
	return nil
}

// primary is the name of the pod the agents labelled primary, "" for
// none. More than one (a fence in progress) reports the first by name.
func (c *Controller) primary(pc *apiv1.PostgresCluster) (string, error) {
	sel := labels.SelectorFromSet(labels.Set{build.LabelCluster: pc.Name, build.LabelRole: build.RolePrimary})
	pods, err := c.pods.Pods(pc.Namespace).List(sel)
	if err != nil {
		return "", err
	}
	best := ""
	for _, p := range pods {
		if best == "" || p.Name < best {
			best = p.Name
		}
	}
	return best, nil
}
