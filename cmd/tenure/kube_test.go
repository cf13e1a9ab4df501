package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/leaderelect/kubestore"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// writeKubeconfig writes a kubeconfig for k's admin whose context's
// namespace is ns.
func writeKubeconfig(t *testing.T, k *testenv.Kube, ns string) string {
	t.Helper()
	admin := k.AdminConfig()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = &clientcmdapi.Cluster{Server: admin.Host, CertificateAuthorityData: admin.TLSClientConfig.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: admin.BearerToken}
	kc.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "admin", Namespace: ns}
	kc.CurrentContext = "test"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatalf("write kubeconfig: %v", err)
	}
	return path
}

// TestAgainstAPIServer runs list and pause through a kubeconfig against a
// real kube-apiserver, with a member that leads through kubestore.
func TestAgainstAPIServer(t *testing.T) {
	k := testenv.Shared(t)
	ns := k.Namespace(t)
	ctx := context.Background()
	be, err := kubestore.New(k.AdminClient(), kubestore.Config{Namespace: ns, Cluster: "alpha", Member: "m1"})
	if err != nil {
		t.Fatal(err)
	}
	m1, err := leaderelect.New(ctx, be, leaderelect.Default("alpha", "m1"))
	if err != nil {
		t.Fatalf("open m1: %v", err)
	}
	defer m1.Close()
	if _, err := m1.PublishStatus(ctx, leaderelect.MemberStatus{Role: leaderelect.RolePrimary, State: "running", Timeline: 1, ConnURL: "postgres://127.0.0.2:5432/postgres"}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if _, err := m1.TryAcquire(ctx); err != nil {
		t.Fatalf("acquire: %v", err)
	}
	if err := m1.Initialize(ctx, "7300000000000000001"); err != nil {
		t.Fatalf("initialize: %v", err)
	}

	path := writeKubeconfig(t, k, ns)
	e := defaultEnv()
	vars := map[string]string{"KUBECONFIG": path, "HOME": t.TempDir()}
	e.getenv = func(k string) string { return vars[k] }
	var out, errOut bytes.Buffer

	// list: kubeconfig from $KUBECONFIG, namespace from its context.
	if code := run(ctx, "tenure", []string{"list", "alpha"}, &out, &errOut, e); code != 0 {
		t.Fatalf("list: exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"+ Cluster: alpha (7300000000000000001)", "| m1     | 127.0.0.2 | Leader |", "Leader lock: m1, epoch 1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("list output lacks %q:\n%s", want, out.String())
		}
	}

	// pause: explicit --kubeconfig and -n.
	delete(vars, "KUBECONFIG")
	out.Reset()
	if code := run(ctx, "tenure", []string{"pause", "--kubeconfig", path, "-n", ns, "alpha"}, &out, &errOut, e); code != 0 {
		t.Fatalf("pause: exit %d: %s", code, errOut.String())
	}
	eventually(t, "m1 to see the cluster paused", func() bool { return m1.View().State.Config.Paused })

	// A cluster that does not exist is an error, not an empty table.
	errOut.Reset()
	if code := run(ctx, "tenure", []string{"list", "--kubeconfig", path, "beta"}, &out, &errOut, e); code != 1 || !strings.Contains(errOut.String(), "not found") {
		t.Errorf("list beta: exit %d: %s", code, errOut.String())
	}
}
