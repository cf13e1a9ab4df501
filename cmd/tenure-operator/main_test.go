package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/tenure-pg/tenure/deploy"
	"github.com/tenure-pg/tenure/internal/testenv"
	apiv1 "github.com/tenure-pg/tenure/operator/api/v1"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestFlags(t *testing.T) {
	c, err := parseFlags([]string{"--namespace=db", "--workers=4", "--identity=op-1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.controller.Namespace != "db" || c.controller.Workers != 4 || c.identity != "op-1" || !c.leaderElect || c.listen != ":8080" {
		t.Errorf("parsed %+v", c)
	}
	for _, bad := range [][]string{
		{"--workers=0"},
		{"--lease-duration=5s", "--renew-deadline=5s"},
		{"--renew-deadline=2s", "--retry-period=2s"},
		{"--default-image="},
		{"extra"},
	} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestHealthzAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "tenure_test_total", Help: "x"}))
	srv := httptest.NewServer(mux(reg))
	defer srv.Close()
	for path, want := range map[string]string{"/healthz": "ok", "/metrics": "tenure_test_total"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d %q", path, resp.StatusCode, b)
		}
	}
}

// TestOneLeaderReconciles: two operators, one leads and reconciles; when
// it stops, the other takes the Lease and reconciles the next cluster.
func TestOneLeaderReconciles(t *testing.T) {
	if testing.Short() {
		t.Skip("needs kube-apiserver")
	}
	k := testenv.Shared(t)
	ns := k.Namespace(t)
	dyn, err := dynamic.NewForConfig(k.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := deploy.InstallCRD(t.Context(), dyn, "test"); err != nil {
		t.Fatal(err)
	}
	kubeconfig := writeKubeconfig(t, k)

	start := func(id string) (stop func()) {
		c := defaultConfig()
		c.kubeconfig, c.identity, c.leaseNamespace = kubeconfig, id, ns
		c.controller.Namespace, c.listen = ns, "127.0.0.1:0"
		c.leaseDuration, c.renewDeadline, c.retryPeriod = 3*time.Second, 2*time.Second, 200*time.Millisecond
		if err := c.validate(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = run(ctx, c, hclog.New(&hclog.LoggerOptions{Name: id, Output: io.Discard}))
		}()
		stopped := false
		stop = func() {
			if !stopped {
				stopped = true
				cancel()
				<-done
			}
		}
		t.Cleanup(stop)
		return stop
	}
	stops := map[string]func(){"op-a": start("op-a"), "op-b": start("op-b")}

	holder := func() string {
		l, err := k.AdminClient().CoordinationV1().Leases(ns).Get(t.Context(), "tenure-operator", metav1.GetOptions{})
		if err != nil || l.Spec.HolderIdentity == nil {
			return ""
		}
		return *l.Spec.HolderIdentity
	}
	testenv.Eventually(t, 20*time.Second, "an operator leads", func() bool { return holder() != "" })
	first := holder()
	reconciled := func(name string) {
		t.Helper()
		createCluster(t, dyn, ns, name)
		testenv.Eventually(t, 20*time.Second, "StatefulSet "+name, func() bool {
			_, err := k.AdminClient().AppsV1().StatefulSets(ns).Get(t.Context(), name, metav1.GetOptions{})
			return err == nil
		})
	}
	reconciled("one")

	stops[first]()
	testenv.Eventually(t, 20*time.Second, "the other operator leads", func() bool { h := holder(); return h != "" && h != first })
	reconciled("two")
}

func createCluster(t *testing.T, dyn dynamic.Interface, ns, name string) {
	t.Helper()
	u := &unstructured.Unstructured{}
	doc := "apiVersion: tenure.dev/v1\nkind: PostgresCluster\nmetadata: {name: " + name + "}\nspec: {numberOfInstances: 1, postgresql: {version: \"15\"}, volume: {size: 1Gi}}\n"
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(apiv1.GroupVersionResource).Namespace(ns).Create(t.Context(), u, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func writeKubeconfig(t *testing.T, k *testenv.Kube) string {
	t.Helper()
	rc := k.AdminConfig()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: rc.Host, CertificateAuthorityData: rc.CAData}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: rc.BearerToken}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "admin"}
	cfg.CurrentContext = "test"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	return path
}
