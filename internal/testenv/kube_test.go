package testenv_test

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tenure-pg/tenure/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func clientFor(t *testing.T, cfg *rest.Config) kubernetes.Interface {
	t.Helper()
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func createConfigMap(t *testing.T, c kubernetes.Interface, ns, name string) {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"k": "v"}}
	if _, err := c.CoreV1().ConfigMaps(ns).Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create configmap %s/%s: %v", ns, name, err)
	}
}

func TestAdminCreatesAndGetsConfigMap(t *testing.T) {
	t.Parallel()
	k := testenv.Shared(t)
	ns := k.Namespace(t)
	createConfigMap(t, k.AdminClient(), ns, "cm")
	got, err := k.AdminClient().CoreV1().ConfigMaps(ns).Get(t.Context(), "cm", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get configmap: %v", err)
	}
	if got.Data["k"] != "v" {
		t.Errorf("configmap data = %v, want k=v", got.Data)
	}
}

func TestServiceAccountGetsExactlyItsRules(t *testing.T) {
	t.Parallel()
	k := testenv.Shared(t)
	ns := k.Namespace(t)
	createConfigMap(t, k.AdminClient(), ns, "cm")
	cfg, err := k.ServiceAccountConfig(t.Context(), ns, "reader", []rbacv1.PolicyRule{{
		APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	sa := clientFor(t, cfg)
	if _, err := sa.CoreV1().ConfigMaps(ns).Get(t.Context(), "cm", metav1.GetOptions{}); err != nil {
		t.Errorf("get configmap as reader: %v", err)
	}
	_, err = sa.CoordinationV1().Leases(ns).List(t.Context(), metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("list leases as reader: err = %v, want 403 Forbidden", err)
	}
	createConfigMap(t, k.AdminClient(), ns, "other") // admin still can
	if err := sa.CoreV1().ConfigMaps(ns).Delete(t.Context(), "other", metav1.DeleteOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("delete configmap as reader: err = %v, want 403 Forbidden", err)
	}
}

// TestIdentitiesWithoutRights covers the two ways to get 403 and the one
// way to get 401 that HA code must tell apart from outages.
func TestIdentitiesWithoutRights(t *testing.T) {
	t.Parallel()
	k := testenv.Shared(t)
	ns := k.Namespace(t)
	noRules, err := k.ServiceAccountConfig(t.Context(), ns, "norights", nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  *rest.Config
		want func(error) bool
	}{
		{"service account without rules", noRules, apierrors.IsForbidden},
		{"static user nobody", k.NobodyConfig(), apierrors.IsForbidden},
		{"bogus token", k.BadTokenConfig(), apierrors.IsUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := clientFor(t, tc.cfg).CoreV1().ConfigMaps(ns).List(t.Context(), metav1.ListOptions{})
			if !tc.want(err) {
				t.Errorf("list configmaps: err = %v (status %v)", err, statusCode(err))
			}
		})
	}
}

func statusCode(err error) int32 {
	if s, ok := errors.AsType[*apierrors.StatusError](err); ok {
		return s.ErrStatus.Code
	}
	return 0
}

// TestAPIServerOutage uses its own apiserver because it stops it.
func TestAPIServerOutage(t *testing.T) {
	t.Parallel()
	k := testenv.StartKube(t)
	client := k.AdminClient() // made before the outage, like a long-lived agent's
	createConfigMap(t, client, "default", "survives")

	began := time.Now()
	k.StopAPIServer()
	t.Logf("apiserver stopped in %v", time.Since(began).Round(time.Millisecond))
	_, err := client.CoreV1().ConfigMaps("default").Get(t.Context(), "survives", metav1.GetOptions{})
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("get during outage: err = %v, want connection refused", err)
	}

	began = time.Now()
	if err := k.StartAPIServer(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("apiserver restarted in %v", time.Since(began).Round(time.Millisecond))
	eventually(t, 10*time.Second, func() error {
		_, err := client.CoreV1().ConfigMaps("default").Get(t.Context(), "survives", metav1.GetOptions{})
		return err
	})
}

func TestProxyPartitionsOneClient(t *testing.T) {
	t.Parallel()
	k := testenv.Shared(t)
	ns := k.Namespace(t)
	createConfigMap(t, k.AdminClient(), ns, "cm")
	p := k.Proxy(t)
	cfg := testenv.ConfigVia(p, k.AdminConfig())
	cfg.Timeout = 2 * time.Second
	via := clientFor(t, cfg)
	get := func(c kubernetes.Interface) error {
		_, err := c.CoreV1().ConfigMaps(ns).Get(t.Context(), "cm", metav1.GetOptions{})
		return err
	}
	if err := get(via); err != nil {
		t.Fatalf("get via proxy before cut: %v", err)
	}
	if host, _, _ := net.SplitHostPort(p.Addr()); host == "127.0.0.1" {
		t.Errorf("proxy listens on %s, want its own 127.0.0.x", p.Addr())
	}

	mustDo(t, p.Cut())
	began := time.Now()
	err := get(via)
	if ne, ok := errors.AsType[net.Error](err); !ok || !ne.Timeout() {
		t.Errorf("get via cut proxy: err = %v, want a timeout", err)
	}
	if d := time.Since(began); d < 2*time.Second || d > 5*time.Second {
		t.Errorf("get via cut proxy took %v, want about the 2s client timeout", d)
	}
	if err := get(k.AdminClient()); err != nil {
		t.Errorf("direct get while proxy cut: %v", err)
	}

	mustDo(t, p.Heal())
	eventually(t, 10*time.Second, func() error { return get(via) })

	mustDo(t, p.Refuse())
	if err := get(via); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("get via refusing proxy: err = %v, want connection refused", err)
	}
	mustDo(t, p.Heal())
	eventually(t, 10*time.Second, func() error { return get(via) })
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// eventually polls f until it returns nil or d passes.
func eventually(t *testing.T, d time.Duration, f func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	for {
		err := f()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("not within %v: %v", d, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
