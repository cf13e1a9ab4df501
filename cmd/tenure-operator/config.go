package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tenure-pg/tenure/operator/controller"
)

// config is the operator's settings, parsed once from flags (with the
// downward API's POD_NAMESPACE and POD_NAME as defaults).
type config struct {
	controller controller.Config
	kubeconfig string
	listen     string // /metrics and /healthz

	leaderElect    bool
	leaseNamespace string
	leaseName      string
	identity       string
	leaseDuration  time.Duration
	renewDeadline  time.Duration
	retryPeriod    time.Duration

	logLevel string
	logJSON  bool
}

func defaultConfig() config {
	host, _ := os.Hostname()
	return config{
		controller:     controller.Default(),
		listen:         ":8080",
		leaderElect:    true,
		leaseNamespace: envOr("POD_NAMESPACE", "tenure-system"),
		leaseName:      "tenure-operator",
		identity:       envOr("POD_NAME", host),
		// client-go's defaults: a new leader within 15 s of a crash.
		leaseDuration: 15 * time.Second,
		renewDeadline: 10 * time.Second,
		retryPeriod:   2 * time.Second,
		logLevel:      "info",
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	c := defaultConfig()
	fs := flag.NewFlagSet("tenure-operator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig (in-cluster config when empty)")
	fs.StringVar(&c.controller.Namespace, "namespace", c.controller.Namespace, "namespace to watch (all when empty)")
	fs.IntVar(&c.controller.Workers, "workers", c.controller.Workers, "clusters reconciled concurrently")
	fs.DurationVar(&c.controller.Resync, "resync", c.controller.Resync, "re-reconcile every cluster this often")
	fs.StringVar(&c.controller.Build.Image, "default-image", c.controller.Build.Image, "PostgreSQL + tenure-agent image of clusters with no spec.image")
	fs.StringVar(&c.listen, "listen", c.listen, "address of /metrics and /healthz")
	fs.BoolVar(&c.leaderElect, "leader-elect", c.leaderElect, "elect one active operator among replicas (a Lease)")
	fs.StringVar(&c.leaseNamespace, "leader-election-namespace", c.leaseNamespace, "namespace of the operator's Lease (POD_NAMESPACE)")
	fs.StringVar(&c.leaseName, "leader-election-id", c.leaseName, "name of the operator's Lease")
	fs.StringVar(&c.identity, "identity", c.identity, "this replica's name in the Lease (POD_NAME)")
	fs.DurationVar(&c.leaseDuration, "lease-duration", c.leaseDuration, "leader Lease duration")
	fs.DurationVar(&c.renewDeadline, "renew-deadline", c.renewDeadline, "leader gives up after failing to renew this long")
	fs.DurationVar(&c.retryPeriod, "retry-period", c.retryPeriod, "leader election retry period")
	fs.StringVar(&c.logLevel, "log-level", c.logLevel, "log level")
	fs.BoolVar(&c.logJSON, "log-json", false, "JSON logs")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return c, c.validate()
}

func (c config) validate() error {
	if err := c.controller.Validate(); err != nil {
		return err
	}
	if !c.leaderElect {
		return nil
	}
	switch {
	case c.leaseNamespace == "" || c.leaseName == "" || c.identity == "":
		return errors.New("leader election needs a lease namespace, name and identity")
	case c.leaseDuration <= c.renewDeadline:
		return fmt.Errorf("lease duration %v must exceed renew deadline %v", c.leaseDuration, c.renewDeadline)
	case float64(c.renewDeadline) <= 1.2*float64(c.retryPeriod):
		return fmt.Errorf("renew deadline %v must exceed 1.2 × retry period %v", c.renewDeadline, c.retryPeriod)
	}
	return nil
}
