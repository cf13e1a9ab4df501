// Command dcsdemo is `make demo` until the agent exists: it starts a real
// etcd and kube-apiserver on loopback, runs three members electing a leader
// through leaderelect's Kubernetes store, and narrates what happens when
// the leader crashes, stops gracefully, and hands over.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"k8s.io/client-go/kubernetes"

	"github.com/tenure-pg/tenure/internal/dcsdemo"
	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/leaderelect/kubestore"
)

const (
	namespace = "default"
	cluster   = "demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// stop ends the member's loop; graceful releases the lock if it led.
func (m *member) stop(ctx context.Context, graceful bool) error {
	m.cancel()
	<-m.done
	if !graceful || !m.c.Leading() {
		return nil
	}
	if err := m.store.Release(ctx); err != nil {
		return fmt.Errorf("release %s: %w", m.name, err)
	}
	return nil
}

type member struct {
	name   string
	store  *leaderelect.Store
	c      *dcsdemo.Contender
	cancel context.CancelFunc
	done   chan struct{}
}

func run(ctx context.Context) error {
	log := hclog.New(&hclog.LoggerOptions{Name: "demo", Level: hclog.Info, Color: hclog.AutoColor})
	log.Info("starting etcd and kube-apiserver on loopback")
	began := time.Now()
	kube, err := testenv.NewKube(ctx, "", nil)
	if err != nil {
		return err
	}
	defer kube.Stop()
	log.Info("control plane ready", "api", kube.Host(), "took", time.Since(began).Round(time.Millisecond))

	client, err := kubernetes.NewForConfig(kube.AdminConfig())
	if err != nil {
		return err
	}
	members := map[string]*member{}
	for _, name := range []string{"demo-0", "demo-1", "demo-2"} {
		m, err := startMember(ctx, client, log, name)
		if err != nil {
			return err
		}
		members[name] = m
	}
	defer func() {
		// Stop every loop first, so nobody campaigns while the leader
		// releases on the way out.
		for _, m := range members {
			m.cancel()
			<-m.done
		}
		for _, m := range members {
			_ = m.stop(context.Background(), true)
			m.store.Close()
		}
	}()
	return narrate(ctx, log, members, func(name string) (*member, error) { return startMember(ctx, client, log, name) })
}

func startMember(ctx context.Context, client kubernetes.Interface, log hclog.Logger, name string) (*member, error) {
	be, err := kubestore.New(client, kubestore.Config{Namespace: namespace, Cluster: cluster, Member: name})
	if err != nil {
		return nil, err
	}
	store, err := leaderelect.New(ctx, be, leaderelect.Default(cluster, name))
	if err != nil {
		return nil, fmt.Errorf("member %s: %w", name, err)
	}
	mctx, cancel := context.WithCancel(ctx)
	m := &member{name: name, store: store, cancel: cancel, done: make(chan struct{}),
		c: &dcsdemo.Contender{Store: store, Log: log.Named(name)}}
	go func() { defer close(m.done); m.c.Run(mctx) }()
	return m, nil
}
