package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	apiv1 "github.com/tenure-pg/tenure/operator/api/v1"
)

// finalizerStep is what deletion protection needs done to a cluster.
type finalizerStep int

const (
	finalizerKeep   finalizerStep = iota // nothing to do
	finalizerAdd                         // protected, not yet finalized
	finalizerRemove                      // no longer protected: let deletion proceed
)

// protection decides the finalizer from the annotation alone: pure, one
// table test per outcome. A protected cluster that is being deleted keeps
// its finalizer (the delete waits, nothing is collected) until the
// annotation is removed; a finalizer is never added to a cluster already
// being deleted.
func protection(pc *apiv1.PostgresCluster) (finalizerStep, string) {
	protected := pc.Annotations[apiv1.AnnotationDeleteProtect] == "true"
	has := slices.Contains(pc.Finalizers, apiv1.FinalizerDeleteProtect)
	deleting := pc.DeletionTimestamp != nil
	switch {
	case protected && !has && !deleting:
		return finalizerAdd, "annotated " + apiv1.AnnotationDeleteProtect
	case !protected && has:
		return finalizerRemove, "no " + apiv1.AnnotationDeleteProtect + "=true annotation"
	case protected && has && deleting:
		return finalizerKeep, "deletion blocked until the " + apiv1.AnnotationDeleteProtect + " annotation is removed"
	}
	return finalizerKeep, ""
}

// protect applies protection's step with a merge patch that carries the
// resourceVersion read, so a concurrent change to the finalizers is a
// conflict (and a retry), never a lost finalizer.
func (c *Controller) protect(ctx context.Context, pc *apiv1.PostgresCluster) error {
	step, reason := protection(pc)
	var fins []string
	if step == finalizerKeep && reason != "" {
		c.events.Event(pc, "Warning", "DeletionBlocked", reason)
	}
	switch step {
	case finalizerAdd:
		fins = append(slices.Clone(pc.Finalizers), apiv1.FinalizerDeleteProtect)
	case finalizerRemove:
		fins = slices.DeleteFunc(slices.Clone(pc.Finalizers), func(f string) bool { return f == apiv1.FinalizerDeleteProtect })
	default:
		return nil
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"finalizers": fins, "resourceVersion": pc.ResourceVersion,
	}})
	if err != nil {
		return err
	}
	_, err = c.dyn.Resource(apiv1.GroupVersionResource).Namespace(pc.Namespace).
		Patch(ctx, pc.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "tenure-operator"})
	if err != nil {
		return fmt.Errorf("finalizer of %s/%s: %w", pc.Namespace, pc.Name, err)
	}
	c.log.Info("deletion protection", "cluster", pc.Namespace+"/"+pc.Name, "finalizer", step == finalizerAdd, "reason", reason)
	return nil
}
