package podagent

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/tenure-pg/tenure/leaderelect/kubestore"
)

// PostgresContainer is the container whose state proves a member alive
// or dead: the agent and its postgres run in it.
const PostgresContainer = "postgres"

// watchPods keeps the cluster's pods in an informer, so the kubelet's
// report of a dead leader wakes the loop at once.
func (a *Agent) watchPods(ctx context.Context) error {
	factory := informers.NewSharedInformerFactoryWithOptions(a.kube, 0,
		informers.WithNamespace(a.cfg.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.LabelSelector = kubestore.LabelCluster + "=" + a.cfg.Cluster
		}))
	pods := factory.Core().V1().Pods()
	poke := func(any) { a.poke() }
	if _, err := pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: poke, UpdateFunc: func(_, n any) { a.poke() }, DeleteFunc: poke,
	}); err != nil {
		return fmt.Errorf("watch pods: %w", err)
	}
	factory.Start(ctx.Done())
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if !cache.WaitForCacheSync(sctx.Done(), pods.Informer().HasSynced) {
		return fmt.Errorf("watch pods: cache did not sync")
	}
	a.pods = pods.Lister()
	return nil
}

// holderDead reports positive evidence that holder cannot write: its pod
// reports the postgres container not running (terminated, or waiting to
// restart). A pod missing from the cache is no evidence (it may never
// have carried the cluster label), nor is a stale Running status.
func holderDead(pods corelisters.PodLister, namespace, holder string) bool {
	if pods == nil || holder == "" {
		return false
	}
	pod, err := pods.Pods(namespace).Get(holder)
	if err != nil {
		return false
	}
	if pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
		return true
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == PostgresContainer {
			return cs.State.Terminated != nil || cs.State.Waiting != nil
		}
	}
	return false
}
