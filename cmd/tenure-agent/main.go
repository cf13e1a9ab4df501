// Command tenure-agent is the entrypoint of the Postgres container: it
// supervises postgres and keeps exactly one writable primary per cluster.
// See package podagent.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // CRON_TZ in --backup-schedule on images without a zone database

	"github.com/hashicorp/go-hclog"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/leaderelect/kubestore"
	"github.com/tenure-pg/tenure/podagent"
	"github.com/tenure-pg/tenure/podagent/api"
	"github.com/tenure-pg/tenure/podagent/pgctl"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	if isWALCommand(args) {
		return runWAL(args, stderr)
	}
	opts, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "tenure-agent:", err)
		return 2
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "tenure-agent", Level: hclog.LevelFromString(opts.logLevel),
		JSONFormat: opts.logJSON, Output: stderr}).With("cluster", opts.cfg.Cluster, "member", opts.cfg.Member)
	if os.Geteuid() == 0 {
		log.Error("refusing to run as root: postgres refuses root; run the agent as the postgres user")
		return 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	agent, srv, err := assemble(ctx, opts, log)
	if err != nil {
		log.Error("start", "error", err)
		return 1
	}
	go func() {
		if err := srv.ListenAndServe(ctx); err != nil {
			log.Error("rest api stopped", "error", err)
			cancel()
		}
	}()
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-signals
		log.Info("stop requested: graceful shutdown (again to abort)")
		agent.Stop()
		<-signals
		cancel()
	}()
	if err := agent.Run(ctx); err != nil {
		log.Error("agent stopped", "error", err)
		return 1
	}
	return 0
}

// assemble builds the agent and its REST server from the options.
func assemble(ctx context.Context, o options, log hclog.Logger) (*podagent.Agent, *api.Server, error) {
	cfg := o.cfg
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	restCfg, err := restConfig(o.kubeconfig)
	if err != nil {
		return nil, nil, err
	}
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return nil, nil, fmt.Errorf("kubernetes client: %w", err)
	}
	kc := kubestore.Config{Namespace: cfg.Namespace, Cluster: cfg.Cluster, Member: cfg.Member}
	var podClient kubernetes.Interface
	if cfg.PodUID != "" {
		kc.Owner = &metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: cfg.Member, UID: types.UID(cfg.PodUID)}
		podClient = client
	}
	be, err := kubestore.New(client, kc)
	if err != nil {
		return nil, nil, err
	}
	store, err := leaderelect.New(ctx, be, cfg.StoreOptions())
	if err != nil {
		return nil, nil, fmt.Errorf("coordination store: %w", err)
	}
	pg, err := pgctl.New(pgctl.Config{BinDir: cfg.BinDir, DataDir: cfg.DataDir, SocketDir: cfg.SocketDir, Port: cfg.Port,
		Superuser: cfg.Superuser, Log: log.Named("postgres"),
		// With an archive, pg_rewind fetches the WAL it needs that the
		// former primary already recycled.
		RewindRestoreTargetWAL: cfg.Archive.Own != nil,
		Env:                    archiveEnv(cfg.Archive, os.Environ())})
	if err != nil {
		return nil, nil, err
	}
	agent, err := podagent.New(cfg, store, pg, podClient, log)
	if err != nil {
		return nil, nil, err
	}
	acfg := o.api
	acfg.Listen, acfg.Token = cfg.APIListen, cfg.APIToken
	acfg.Collectors = agent.Collectors()
	acfg.Unsafe = agent.UnsafeEndpoints()
	srv, err := api.New(acfg, agent, agent, log)
	if err != nil {
		return nil, nil, err
	}
	return agent, srv, nil
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		c, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("load kubeconfig %s: %w", kubeconfig, err)
		}
		return c, nil
	}
	c, err := rest.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("no --kubeconfig and not in a cluster: %w", err)
	}
	return c, nil
}

// archiveEnv is what postgres's archive_command and restore_command need
// from the agent's environment when they run standalone (the agent's WAL
// service not answering, or another cluster's archive): the S3
// credentials' variables, AWS_* (static keys, web identity, container
// credentials). postgres otherwise inherits nothing from the agent.
func archiveEnv(c podagent.ArchiveConfig, environ []string) []string {
	if c.Own == nil && c.Source == nil {
		return nil
	}
	var out []string
	for _, kv := range environ {
		if strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	return out
}
