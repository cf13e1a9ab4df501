package testenv

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Kube is a kube-apiserver backed by its own etcd, both on 127.0.0.1 with
// random ports and all state in one temp dir. It authenticates static
// tokens (admin in system:masters, nobody with no groups) and
// service-account tokens, and authorizes with RBAC.
type Kube struct {
	dir    string
	ownDir bool // dir was made by NewKube and is removed by Stop
	log    io.Writer
	bins   Binaries
	pki    *pki
	etcd   *etcd
	port   int // secure port, kept across StopAPIServer/StartAPIServer

	adminToken  string
	nobodyToken string
	tokenFile   string
	admin       kubernetes.Interface
	probe       *http.Client // readiness probes, trusting pki.caPEM

	mu        sync.Mutex
	apiserver *process // nil while stopped
}

// StartKube starts a dedicated etcd and kube-apiserver for t and stops them
// when t ends. Prefer Shared unless the test stops or restarts the
// apiserver. Missing binaries skip t outside CI (see Missing).
func StartKube(t testing.TB) *Kube {
	t.Helper()
	began := time.Now()
	k, err := NewKube(context.Background(), "", nil)
	check(t, err)
	t.Logf("testenv: kube-apiserver at %s started in %v", k.Host(), time.Since(began).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("etcd log ends:\n%s", logTail(filepath.Join(k.dir, "etcd.log")))
			t.Logf("kube-apiserver log ends:\n%s", logTail(filepath.Join(k.dir, "kube-apiserver.log")))
		}
		k.Stop()
	})
	return k
}

// NewKube starts etcd and kube-apiserver with their files under dir (a new
// temp dir, removed by Stop, when dir is ""). It returns once /readyz
// answers 200. Progress lines go to log (may be nil). It is for benchmark
// and demo binaries; tests use StartKube or Shared. The caller must call
// Stop.
func NewKube(ctx context.Context, dir string, log io.Writer) (*Kube, error) {
	if log == nil {
		log = io.Discard
	}
	bins, err := LookupBinaries()
	if err != nil {
		return nil, err
	}
	k := &Kube{dir: dir, log: log, bins: bins, adminToken: randomToken(), nobodyToken: randomToken()}
	if k.dir == "" {
		if k.dir, err = os.MkdirTemp("", "tenure-kube-"); err != nil {
			return nil, fmt.Errorf("start kube: %w", err)
		}
		k.ownDir = true
	}
	if err := k.start(ctx); err != nil {
		k.Stop()
		return nil, fmt.Errorf("start kube: %w", err)
	}
	return k, nil
}

func (k *Kube) start(ctx context.Context) error {
	began := time.Now()
	var err error
	if k.pki, err = newPKI(k.dir); err != nil {
		return err
	}
	if err := k.writeTokenFile(); err != nil {
		return err
	}
	k.probe = newProbeClient(k.pki.caPEM)
	if k.etcd, err = startEtcd(ctx, k.bins.Etcd, k.dir); err != nil {
		return err
	}
	if err := k.startFirstAPIServer(ctx); err != nil {
		return err
	}
	// Made after the port is known: a config captures the URL.
	if k.admin, err = kubernetes.NewForConfig(k.AdminConfig()); err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	fmt.Fprintf(k.log, "testenv: kube-apiserver ready at %s in %v (dir %s)\n",
		k.Host(), time.Since(began).Round(time.Millisecond), k.dir)
	return nil
}

// writeTokenFile writes the --token-auth-file: token,user,uid[,"groups"].
// Static tokens also get system:authenticated, which RBAC's bootstrap
// policy allows discovery and nothing else: nobody is the no-rights user.
func (k *Kube) writeTokenFile() error {
	k.tokenFile = filepath.Join(k.dir, "tokens.csv")
	content := fmt.Sprintf("%s,admin,admin,\"system:masters\"\n%s,nobody,nobody\n", k.adminToken, k.nobodyToken)
	return writeFile(k.tokenFile, []byte(content))
}

// Stop stops the apiserver and etcd and removes the dir NewKube made. It
// is safe to call more than once.
func (k *Kube) Stop() {
	k.StopAPIServer()
	if k.etcd != nil {
		k.etcd.stop()
	}
	if k.ownDir {
		_ = os.RemoveAll(k.dir)
	}
}

// Host is the apiserver's URL, https://127.0.0.1:port.
func (k *Kube) Host() string { return "https://" + k.Addr() }

// Addr is the apiserver's host:port.
func (k *Kube) Addr() string { return hostPort("127.0.0.1", k.port) }

// CAData is the PEM CA certificate that signed the serving certificate.
func (k *Kube) CAData() []byte { return append([]byte(nil), k.pki.caPEM...) }

// Dir holds the logs, keys and etcd data of this Kube.
func (k *Kube) Dir() string { return k.dir }

// AdminConfig returns a new config for user admin (group system:masters).
func (k *Kube) AdminConfig() *rest.Config { return k.tokenConfig(k.adminToken) }

// AdminClient is a clientset for user admin.
func (k *Kube) AdminClient() kubernetes.Interface { return k.admin }

// NobodyConfig returns a config for the static user nobody: authenticated,
// with no groups beyond system:authenticated, so any object access is 403.
func (k *Kube) NobodyConfig() *rest.Config { return k.tokenConfig(k.nobodyToken) }

// BadTokenConfig returns a config with a token the apiserver does not know,
// so every request is 401.
func (k *Kube) BadTokenConfig() *rest.Config { return k.tokenConfig("bogus-" + randomToken()) }

func (k *Kube) tokenConfig(token string) *rest.Config {
	return &rest.Config{
		Host:            k.Host(),
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: k.CAData()},
		// client-go's default 5 QPS would make a busy test wait on its own
		// client instead of the apiserver.
		QPS:   1000,
		Burst: 2000,
	}
}
