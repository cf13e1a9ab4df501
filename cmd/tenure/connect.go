package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/leaderelect/kubestore"
)

// requestTimeout bounds each API call of the CLI's Store: longer than an
// agent's (2 s), since a person at a slow link would rather wait than
// retry, and still below the Store's renew deadline as Options require.
const requestTimeout = 5 * time.Second

// openKube opens a Store on the Kubernetes API named by t, resolving the
// kubeconfig as kubectl does: --kubeconfig, else $KUBECONFIG, else
// ~/.kube/config, else the in-cluster service account; the namespace from
// -n, else the context's, else the pod's.
func openKube(ctx context.Context, e *env, t target) (*leaderelect.Store, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.Precedence = []string{filepath.Join(e.getenv("HOME"), ".kube", "config")}
	if kc := e.getenv("KUBECONFIG"); kc != "" {
		rules.Precedence = filepath.SplitList(kc)
	}
	rules.ExplicitPath = t.kubeconfig
	overrides := &clientcmd.ConfigOverrides{}
	overrides.Context.Namespace = t.namespace
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig namespace: %w", err)
	}
	cfg.UserAgent = "tenure-cli"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	be, err := kubestore.New(client, kubestore.Config{Namespace: ns, Cluster: t.cluster, Member: observer, SyncTimeout: 20 * time.Second})
	if err != nil {
		return nil, err
	}
	opts := leaderelect.Default(t.cluster, observer)
	opts.RequestTimeout = requestTimeout
	st, err := leaderelect.New(ctx, be, opts)
	if err != nil {
		return nil, fmt.Errorf("open cluster %s in namespace %s: %w", t.cluster, ns, err)
	}
	return st, nil
}
