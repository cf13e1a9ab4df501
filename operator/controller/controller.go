package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	apiv1 "github.com/tenure-pg/tenure/operator/api/v1"
	"github.com/tenure-pg/tenure/operator/build"
)

// Config is the controller's settings.
type Config struct {
	// Namespace to watch; "" watches all.
	Namespace string
	// Workers run sync concurrently, each on a different cluster.
	Workers int
	// Resync re-queues every cluster this often, even with no event.
	Resync time.Duration
	// Build are the builders' options (the default image).
	Build build.Options
}

// Default is one worker per core of a small operator pod.
func Default() Config {
	return Config{Workers: 2, Resync: 10 * time.Minute, Build: build.Options{Image: "tenure/postgres:15"}}
}

// Validate reports a setting the controller cannot run with.
func (c Config) Validate() error {
	switch {
	case c.Workers < 1:
		return fmt.Errorf("workers %d: need at least 1", c.Workers)
	case c.Resync <= 0:
		return fmt.Errorf("resync %v must be positive", c.Resync)
	case c.Build.Image == "":
		return errors.New("no default image")
	}
	return nil
}

// Controller reconciles PostgresClusters.
type Controller struct {
	cfg   Config
	kube  kubernetes.Interface
	dyn   dynamic.Interface
	log   hclog.Logger
	queue workqueue.TypedRateLimitingInterface[string]
	m     *metrics

	events      record.EventRecorder
	broadcaster record.EventBroadcaster

	kubeInformers informers.SharedInformerFactory
	crInformers   dynamicinformer.DynamicSharedInformerFactory
	clusters      cache.GenericLister
	statefulSets  appslisters.StatefulSetLister
	secrets       corelisters.SecretLister
	pods          corelisters.PodLister
	claims        corelisters.PersistentVolumeClaimLister
	synced        []cache.InformerSynced
}

// New wires the informers; Run starts them. reg may be nil.
func New(cfg Config, kube kubernetes.Interface, dyn dynamic.Interface, log hclog.Logger, reg prometheus.Registerer) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Controller{
		cfg: cfg, kube: kube, dyn: dyn, log: log,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "postgresclusters"}),
		m: newMetrics(reg),
	}
	scheme := runtime.NewScheme()
	if err := apiv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c.broadcaster = record.NewBroadcaster()
	c.events = c.broadcaster.NewRecorder(scheme, corev1.EventSource{Component: build.ManagedBy})
	// Only objects carrying the cluster label: the operator never caches
	// the namespace's other Secrets or pods.
	owned := informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = build.LabelCluster })
	c.kubeInformers = informers.NewSharedInformerFactoryWithOptions(kube, cfg.Resync, informers.WithNamespace(cfg.Namespace), owned)
	c.crInformers = dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, cfg.Resync, cfg.Namespace, nil)

	cr := c.crInformers.ForResource(apiv1.GroupVersionResource)
	c.clusters = cr.Lister()
	if _, err := cr.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, o any) { c.enqueue(o) },
		DeleteFunc: c.enqueue,
	}); err != nil {
		return nil, err
	}
	sts := c.kubeInformers.Apps().V1().StatefulSets()
	secrets := c.kubeInformers.Core().V1().Secrets()
	pods := c.kubeInformers.Core().V1().Pods()
	claims := c.kubeInformers.Core().V1().PersistentVolumeClaims()
	c.statefulSets, c.secrets, c.pods, c.claims = sts.Lister(), secrets.Lister(), pods.Lister(), claims.Lister()
	ownedInformers := []cache.SharedIndexInformer{
		sts.Informer(), secrets.Informer(), pods.Informer(), claims.Informer(),
		c.kubeInformers.Core().V1().Services().Informer(),
		c.kubeInformers.Core().V1().ServiceAccounts().Informer(),
		c.kubeInformers.Rbac().V1().Roles().Informer(),
		c.kubeInformers.Rbac().V1().RoleBindings().Informer(),
		c.kubeInformers.Policy().V1().PodDisruptionBudgets().Informer(),
	}
	c.synced = append(c.synced, cr.Informer().HasSynced)
	for _, inf := range ownedInformers {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueueOwner,
			UpdateFunc: func(_, o any) { c.enqueueOwner(o) },
			DeleteFunc: c.enqueueOwner,
		}); err != nil {
			return nil, err
		}
		c.synced = append(c.synced, inf.HasSynced)
	}
	return c, nil
}

// enqueue adds a cluster's key.
func (c *Controller) enqueue(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	c.queue.Add(key)
}

// enqueueOwner adds the key of the cluster an owned object (or pod) is
// labelled with: pods carry the label but no owner reference to the
// cluster, and the label is what the agents use too.
func (c *Controller) enqueueOwner(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	o, ok := obj.(metav1.Object)
	if !ok {
		return
	}
	if name := o.GetLabels()[build.LabelCluster]; name != "" {
		c.queue.Add(o.GetNamespace() + "/" + name)
	}
}

// Run starts the informers and workers and blocks until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	c.broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: c.kube.CoreV1().Events(c.cfg.Namespace)})
	defer c.broadcaster.Shutdown()
	c.kubeInformers.Start(ctx.Done())
	c.crInformers.Start(ctx.Done())
	defer c.kubeInformers.Shutdown()
	defer c.crInformers.Shutdown()
	c.log.Info("waiting for informer caches", "namespace", c.cfg.Namespace)
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return fmt.Errorf("informer caches: %w", ctx.Err())
	}
	c.log.Info("reconciling", "workers", c.cfg.Workers)
	var wg sync.WaitGroup
	for range c.cfg.Workers {
		wg.Go(func() { wait.UntilWithContext(ctx, c.runWorker, time.Second) })
	}
	<-ctx.Done()
	c.queue.ShutDown()
	wg.Wait()
	return nil
}

func (c *Controller) runWorker(ctx context.Context) {
	for c.processNextWorkItem(ctx) {
	}
}

func (c *Controller) processNextWorkItem(ctx context.Context) bool {
	key, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(key)
	began := time.Now()
	err := c.sync(ctx, key)
	c.m.observe(began, err)
	if err == nil {
		c.queue.Forget(key)
		return true
	}
	if apierrors.IsConflict(err) {
		// A lister a write behind: the retry reads the newer object.
		c.log.Debug("sync conflict, retrying", "cluster", key, "error", err)
	} else {
		c.log.Warn("sync failed, retrying", "cluster", key, "retries", c.queue.NumRequeues(key), "error", err)
	}
	c.queue.AddRateLimited(key)
	return true
}
