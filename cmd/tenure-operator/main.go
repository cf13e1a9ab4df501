// Command tenure-operator reconciles PostgresClusters (tenure.dev/v1):
// see operator/controller. Several replicas elect one active operator on
// a Lease; /metrics and /healthz are served on --listen (:8080) by all.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/tenure-pg/tenure/operator/controller"
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tenure-operator:", err)
		os.Exit(2)
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "tenure-operator", Level: hclog.LevelFromString(cfg.logLevel), JSONFormat: cfg.logJSON})
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		log.Error("exiting", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config, log hclog.Logger) error {
	rc, err := restConfig(cfg.kubeconfig)
	if err != nil {
		return err
	}
	kube, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ctrl, err := controller.New(cfg.controller, kube, dyn, log.Named("controller"), reg)
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: cfg.listen, Handler: mux(reg), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "error", err)
		}
	}()
	defer srv.Close()
	log.Info("starting", "namespace", cfg.controller.Namespace, "workers", cfg.controller.Workers,
		"leader_elect", cfg.leaderElect, "listen", cfg.listen, "default_image", cfg.controller.Build.Image)
	if !cfg.leaderElect {
		return ctrl.Run(ctx)
	}
	return lead(ctx, cfg, kube, log, ctrl.Run)
}

func mux(reg *prometheus.Registry) *http.ServeMux {
	m := http.NewServeMux()
	m.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	return m
}

// lead runs work while this replica holds the operator's Lease. Losing it
// ends the process: a fresh start rebuilds every cache, which is simpler
// and safer than handing a half-run controller back and forth.
func lead(ctx context.Context, cfg config, kube kubernetes.Interface, log hclog.Logger, work func(context.Context) error) error {
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, cfg.leaseNamespace, cfg.leaseName,
		kube.CoreV1(), kube.CoordinationV1(), resourcelock.ResourceLockConfig{Identity: cfg.identity})
	if err != nil {
		return err
	}
	started := make(chan struct{})
	result := make(chan error, 1)
	leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   cfg.leaseDuration,
		RenewDeadline:   cfg.renewDeadline,
		RetryPeriod:     cfg.retryPeriod,
		ReleaseOnCancel: true,
		Name:            cfg.leaseName,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				close(started)
				log.Info("leading", "lease", cfg.leaseNamespace+"/"+cfg.leaseName, "identity", cfg.identity)
				result <- work(ctx)
			},
			OnStoppedLeading: func() {},
			OnNewLeader: func(id string) {
				if id != cfg.identity {
					log.Info("following", "leader", id)
				}
			},
		},
	})
	select {
	case <-started:
	default:
		return nil // stopped while following
	}
	// RunOrDie cancelled work's context when it returned.
	err = <-result
	if err == nil && ctx.Err() == nil {
		err = errors.New("lost the operator lease")
	}
	return err
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		return rest.InClusterConfig()
	}
	return clientcmd.BuildConfigFromFlags("", kubeconfig)
}
