package podagent

import (
	"context"
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/leaderelect/kubestore"
)

// LabelRole is the pod label Services select on.
const LabelRole = "tenure.dev/role"

// labelSelf sets this pod's role label (removes it for RoleNone).
func (a *Agent) labelSelf(ctx context.Context, role leaderelect.Role) error {
	if a.kube == nil {
		return nil
	}
	if err := a.patchRole(ctx, a.cfg.Member, role); err != nil {
		return err
	}
	a.mu.Lock()
	a.mem.label = role
	a.mu.Unlock()
	return nil
}

// fenceOthers removes the primary label from every other pod of the
// cluster, so no Service routes to an old primary once this one promotes.
func (a *Agent) fenceOthers(ctx context.Context) error {
	if a.kube == nil {
		return nil
	}
	sel := fmt.Sprintf("%s=%s,%s=%s", kubestore.LabelCluster, a.cfg.Cluster, LabelRole, leaderelect.RolePrimary)
	pods, err := a.kube.CoreV1().Pods(a.cfg.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return fmt.Errorf("list primary pods: %w", err)
	}
	for _, p := range pods.Items {
		if p.Name == a.cfg.Member {
			continue
		}
		if err := a.patchRole(ctx, p.Name, leaderelect.RoleNone); err != nil {
			return err
		}
		a.log.Info("fenced old primary", "pod", p.Name)
	}
	return nil
}

func (a *Agent) patchRole(ctx context.Context, pod string, role leaderelect.Role) error {
	var value any // nil removes the label in a merge patch
	if role != leaderelect.RoleNone {
		value = string(role)
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]any{LabelRole: value}}})
	if err != nil {
		return err
	}
	if _, err := a.kube.CoreV1().Pods(a.cfg.Namespace).Patch(ctx, pod, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("label pod %s %s=%q: %w", pod, LabelRole, role, err)
	}
	return nil
}

// readOwnLabel learns the label the pod carries now (after a restart).
func (a *Agent) readOwnLabel(ctx context.Context) {
	pod, err := a.kube.CoreV1().Pods(a.cfg.Namespace).Get(ctx, a.cfg.Member, metav1.GetOptions{})
	if err != nil {
		a.log.Warn("read own pod", "error", err)
		return
	}
	a.mu.Lock()
	a.mem.label = leaderelect.Role(pod.Labels[LabelRole])
	a.mu.Unlock()
}
