package kubestore

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/tenure-pg/tenure/leaderelect"
)

// Config says where a member's records live.
type Config struct {
	Namespace string
	Cluster   string
	Member    string
	// Owner, when set, owns this member's heartbeat Lease: the member's
	// pod, so the heartbeat is garbage-collected with it.
	Owner *metav1.OwnerReference
	// SyncTimeout bounds the initial list of Watch. Default 30 s.
	SyncTimeout time.Duration
}

// Backend is a leaderelect.Backend on the Kubernetes API.
type Backend struct {
	client      kubernetes.Interface
	namespace   string
	cluster     string
	member      string
	owner       *metav1.OwnerReference
	syncTimeout time.Duration
}

// New returns a Backend for cfg. It does not contact the API.
func New(client kubernetes.Interface, cfg Config) (*Backend, error) {
	if cfg.Namespace == "" {
		return nil, fmt.Errorf("kubestore: %w: empty namespace", leaderelect.ErrInvalid)
	}
	if err := leaderelect.ValidateName("cluster", cfg.Cluster); err != nil {
		return nil, fmt.Errorf("kubestore: %w", err)
	}
	if err := leaderelect.ValidateName("member", cfg.Member); err != nil {
		return nil, fmt.Errorf("kubestore: %w", err)
	}
	if cfg.SyncTimeout <= 0 {
		cfg.SyncTimeout = 30 * time.Second
	}
	return &Backend{
		client:      client,
		namespace:   cfg.Namespace,
		cluster:     cfg.Cluster,
		member:      cfg.Member,
		owner:       cfg.Owner,
		syncTimeout: cfg.SyncTimeout,
	}, nil
}

func (b *Backend) lockName() string           { return b.cluster + "-leader" }
func (b *Backend) memberName(m string) string { return b.cluster + "-member-" + m }
func (b *Backend) configName() string         { return b.cluster + "-config" }

func (b *Backend) leases() coordinationv1client.LeaseInterface {
	return b.client.CoordinationV1().Leases(b.namespace)
}

func (b *Backend) configMaps() corev1client.ConfigMapInterface {
	return b.client.CoreV1().ConfigMaps(b.namespace)
}

// Get implements leaderelect.Backend.
func (b *Backend) Get(ctx context.Context, key leaderelect.Key) (leaderelect.Record, error) {
	switch key.Kind {
	case leaderelect.KindLock, leaderelect.KindMember:
		name := b.lockName()
		if key.Kind == leaderelect.KindMember {
			name = b.memberName(key.Name)
		}
		lease, err := b.leases().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return leaderelect.Record{}, fmt.Errorf("get lease %s/%s: %w", b.namespace, name, classify(err))
		}
		rec, _, err := decodeLease(lease)
		return rec, err
	case leaderelect.KindState:
		cm, err := b.configMaps().Get(ctx, b.configName(), metav1.GetOptions{})
		if err != nil {
			return leaderelect.Record{}, fmt.Errorf("get configmap %s/%s: %w", b.namespace, b.configName(), classify(err))
		}
		return decodeConfigMap(cm)
	}
	return leaderelect.Record{}, fmt.Errorf("kubestore: get %v: %w: unknown kind", key, leaderelect.ErrInvalid)
}

// Put implements leaderelect.Backend.
func (b *Backend) Put(ctx context.Context, rec leaderelect.Record) (leaderelect.Record, error) {
	switch rec.Kind {
	case leaderelect.KindLock, leaderelect.KindMember:
		lease := b.lockLease(rec)
		if rec.Kind == leaderelect.KindMember {
			var err error
			if lease, err = b.memberLease(rec); err != nil {
				return leaderelect.Record{}, err
			}
		}
		out, err := writeObject(ctx, b.leases(), lease, rec.Version == "")
		if err != nil {
			return leaderelect.Record{}, fmt.Errorf("write lease %s/%s: %w", b.namespace, lease.Name, classify(err))
		}
		got, _, err := decodeLease(out)
		return got, err
	case leaderelect.KindState:
		cm, err := b.configMap(rec)
		if err != nil {
			return leaderelect.Record{}, err
		}
		out, err := writeObject(ctx, b.configMaps(), cm, rec.Version == "")
		if err != nil {
			return leaderelect.Record{}, fmt.Errorf("write configmap %s/%s: %w", b.namespace, cm.Name, classify(err))
		}
		return decodeConfigMap(out)
	}
	return leaderelect.Record{}, fmt.Errorf("kubestore: put %v: %w: unknown kind", rec.Key, leaderelect.ErrInvalid)
}

type writer[T any] interface {
	Create(context.Context, T, metav1.CreateOptions) (T, error)
	Update(context.Context, T, metav1.UpdateOptions) (T, error)
}

func writeObject[T any](ctx context.Context, w writer[T], obj T, create bool) (T, error) {
	if create {
		return w.Create(ctx, obj, metav1.CreateOptions{})
	}
	return w.Update(ctx, obj, metav1.UpdateOptions{})
}

// Watch implements leaderelect.Backend with two informers (Leases and
// ConfigMaps carrying the cluster label).
func (b *Backend) Watch(ctx context.Context, fn func(leaderelect.Record, bool)) error {
	// One cheap list first, so that a missing permission or an API that is
	// down is reported at once and classified, instead of the informers
	// retrying in the background while WaitForCacheSync hangs.
	pctx, cancel := context.WithTimeout(ctx, b.syncTimeout)
	defer cancel()
	sel := metav1.ListOptions{LabelSelector: LabelCluster + "=" + b.cluster, Limit: 1}
	if _, err := b.leases().List(pctx, sel); err != nil {
		return fmt.Errorf("list leases in %s: %w", b.namespace, classify(err))
	}
	if _, err := b.configMaps().List(pctx, sel); err != nil {
		return fmt.Errorf("list configmaps in %s: %w", b.namespace, classify(err))
	}
	factory := informers.NewSharedInformerFactoryWithOptions(b.client, 0,
		informers.WithNamespace(b.namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = LabelCluster + "=" + b.cluster }))
	leases := factory.Coordination().V1().Leases().Informer()
	cms := factory.Core().V1().ConfigMaps().Informer()
	if _, err := leases.AddEventHandler(handler(fn, b.decodeLeaseEvent)); err != nil {
		return fmt.Errorf("watch leases: %w", err)
	}
	if _, err := cms.AddEventHandler(handler(fn, b.decodeConfigMapEvent)); err != nil {
		return fmt.Errorf("watch configmaps: %w", err)
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(pctx.Done(), leases.HasSynced, cms.HasSynced) {
		return fmt.Errorf("sync informers in %s: %w: %v", b.namespace, leaderelect.ErrUnavailable, pctx.Err())
	}
	return nil
}

func (b *Backend) decodeLeaseEvent(obj any) (leaderelect.Record, bool) {
	lease, ok := obj.(*coordinationv1.Lease)
	if !ok {
		return leaderelect.Record{}, false
	}
	rec, ok, err := decodeLease(lease)
	return rec, ok && err == nil
}

func (b *Backend) decodeConfigMapEvent(obj any) (leaderelect.Record, bool) {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok || cm.Name != b.configName() {
		return leaderelect.Record{}, false
	}
	rec, err := decodeConfigMap(cm)
	return rec, err == nil
}

func handler(fn func(leaderelect.Record, bool), decode func(any) (leaderelect.Record, bool)) cache.ResourceEventHandlerFuncs {
	deliver := func(obj any, deleted bool) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if rec, ok := decode(obj); ok {
			fn(rec, deleted)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { deliver(obj, false) },
		UpdateFunc: func(_, obj any) { deliver(obj, false) },
		DeleteFunc: func(obj any) { deliver(obj, true) },
	}
}
