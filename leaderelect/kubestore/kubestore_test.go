package kubestore_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tenure-pg/tenure/internal/apicount"
	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/leaderelect/kubestore"
	"github.com/tenure-pg/tenure/leaderelect/storetest"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestContract(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		NewCluster: func(t *testing.T) storetest.Cluster {
			k := testenv.Shared(t)
			return &cluster{k: k, ns: k.Namespace(t)}
		},
		NewOutageCluster: func(t *testing.T) (storetest.Cluster, func(bool)) {
			k := testenv.StartKube(t)
			down := func(on bool) {
				if on {
					k.StopAPIServer()
					return
				}
				if err := k.StartAPIServer(context.Background()); err != nil {
					t.Fatalf("restart apiserver: %v", err)
				}
			}
			return &cluster{k: k, ns: k.Namespace(t)}, down
		},
	})
}

// cluster runs each member under its own ServiceAccount holding exactly
// kubestore.PolicyRules for its own heartbeat only, through its own proxy (so it can be cut off
// alone) and its own fault-injecting transport.
type cluster struct {
	k  *testenv.Kube
	ns string
}

func (c *cluster) Member(t *testing.T, name string) storetest.Member {
	cfg, err := c.k.ServiceAccountConfig(context.Background(), c.ns, name, kubestore.PolicyRules("alpha", []string{name}))
	if err != nil {
		t.Fatalf("identity for %s: %v", name, err)
	}
	p := c.k.Proxy(t)
	m := &member{proxy: p}
	cfg = testenv.ConfigVia(p, cfg)
	cfg.QPS, cfg.Burst = 1000, 1000
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &loser{next: m.count.Wrap(rt), armed: &m.lose} })
	m.Backend = newBackend(t, cfg, c.ns, name)
	return m
}

func (c *cluster) Forbidden(t *testing.T, name string) leaderelect.Backend {
	cfg, err := c.k.ServiceAccountConfig(context.Background(), c.ns, name, nil)
	if err != nil {
		t.Fatalf("identity for %s: %v", name, err)
	}
	return newBackend(t, cfg, c.ns, name)
}

func newBackend(t *testing.T, cfg *rest.Config, ns, name string) *kubestore.Backend {
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	be, err := kubestore.New(client, kubestore.Config{Namespace: ns, Cluster: "alpha", Member: name})
	if err != nil {
		t.Fatal(err)
	}
	return be
}

type member struct {
	*kubestore.Backend
	proxy *testenv.Proxy
	count apicount.Counter
	lose  atomic.Int32
}

func (m *member) LoseNextWrite() { m.lose.Add(1) }
func (m *member) Writes() int64  { return m.count.Writes() }
func (m *member) Cut(on bool) {
	var err error
	if on {
		err = m.proxy.Cut()
	} else {
		err = m.proxy.Heal()
	}
	if err != nil {
		panic(err)
	}
}

// loser sends a write, lets it land, then drops the response and reports a
// timeout: what a client sees when the apiserver commits a write but the
// answer never arrives.
type loser struct {
	next  http.RoundTripper
	armed *atomic.Int32
}

type lostResponse struct{}

func (lostResponse) Error() string   { return "response lost after the write landed (injected timeout)" }
func (lostResponse) Timeout() bool   { return true }
func (lostResponse) Temporary() bool { return true }

func (l *loser) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(req)
	write := req.Method != http.MethodGet && req.Method != http.MethodHead
	if err != nil || !write || l.armed.Load() <= 0 || l.armed.Add(-1) < 0 {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil, lostResponse{}
}

// TestHeartbeatOwnedByPod checks that a member running in a pod makes the
// pod the owner of its heartbeat Lease, so garbage collection removes it
// with the pod.
func TestHeartbeatOwnedByPod(t *testing.T) {
	k := testenv.Shared(t)
	ns := k.Namespace(t)
	ctx := context.Background()
	pod, err := k.AdminClient().CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "alpha-0"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "postgres", Image: "tenure:test"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	owner := metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID}
	be, err := kubestore.New(k.AdminClient(), kubestore.Config{Namespace: ns, Cluster: "alpha", Member: "alpha-0", Owner: &owner})
	if err != nil {
		t.Fatal(err)
	}
	s, err := leaderelect.New(ctx, be, leaderelect.Default("alpha", "alpha-0"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.PublishStatus(ctx, leaderelect.MemberStatus{Role: leaderelect.RoleReplica}); err != nil {
		t.Fatal(err)
	}
	lease, err := k.AdminClient().CoordinationV1().Leases(ns).Get(ctx, "alpha-member-alpha-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(lease.OwnerReferences) != 1 || lease.OwnerReferences[0].UID != pod.UID {
		t.Fatalf("heartbeat owners = %+v, want pod %s", lease.OwnerReferences, pod.UID)
	}
	if got := lease.Labels[kubestore.LabelCluster]; got != "alpha" {
		t.Fatalf("cluster label %q", got)
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	for _, cfg := range []kubestore.Config{
		{Cluster: "alpha", Member: "a"},
		{Namespace: "ns", Member: "a"},
		{Namespace: "ns", Cluster: "alpha"},
		{Namespace: "ns", Cluster: "Alpha", Member: "a"},
	} {
		if _, err := kubestore.New(nil, cfg); !errors.Is(err, leaderelect.ErrInvalid) {
			t.Errorf("New(%+v) = %v, want ErrInvalid", cfg, err)
		}
	}
}

var _ = time.Second
