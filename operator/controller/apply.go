package controller

import (
	"context"
	"crypto/rand"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	apiv1 "github.com/tenure-pg/tenure/operator/api/v1"
	"github.com/tenure-pg/tenure/operator/build"
)

// apply server-side applies obj (a typed object with its TypeMeta set) as
// the operator's field manager, forcing conflicts: the fields it sets are
// the operator's, by design.
func (c *Controller) apply(ctx context.Context, gvr schema.GroupVersionResource, obj runtime.Object) error {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: m}
	// A typed object always carries a status and a null creation
	// timestamp; applying them would claim fields the operator never sets.
	delete(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	_, err = c.dyn.Resource(gvr).Namespace(u.GetNamespace()).Apply(ctx, u.GetName(), u,
		metav1.ApplyOptions{FieldManager: build.ManagedBy, Force: true})
	if err != nil {
		return fmt.Errorf("apply %s %s/%s: %w", gvr.Resource, u.GetNamespace(), u.GetName(), err)
	}
	return nil
}

// ensureSecrets creates the cluster's generated Secrets that do not exist.
// An existing one is never updated: its password may be in use.
func (c *Controller) ensureSecrets(ctx context.Context, pc *apiv1.PostgresCluster) error {
	secrets, err := build.Secrets(pc, rand.Reader)
	if err != nil {
		return err
	}
	for _, s := range secrets {
		if _, err := c.secrets.Secrets(s.Namespace).Get(s.Name); err == nil {
			continue
		} else if !apierrors.IsNotFound(err) {
			return err
		}
		_, err := c.kube.CoreV1().Secrets(s.Namespace).Create(ctx, s, metav1.CreateOptions{FieldManager: build.ManagedBy})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create secret %s/%s: %w", s.Namespace, s.Name, err)
		}
		if err == nil {
			c.log.Info("created secret", "cluster", pc.Namespace+"/"+pc.Name, "secret", s.Name)
			c.events.Eventf(pc, corev1.EventTypeNormal, "SecretCreated", "created Secret %s", s.Name)
		}
	}
	return nil
}
