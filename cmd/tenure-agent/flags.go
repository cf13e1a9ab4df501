package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tenure-pg/tenure/podagent"
	"github.com/tenure-pg/tenure/podagent/api"
	"github.com/tenure-pg/tenure/podagent/ha"
	"github.com/tenure-pg/tenure/walarchive/restore"
	"github.com/tenure-pg/tenure/walarchive/retention"
	"github.com/tenure-pg/tenure/walarchive/schedule"
	"github.com/tenure-pg/tenure/walarchive/wal"
)

type options struct {
	cfg        podagent.Config
	api        api.Config // Listen, Token and handlers are set in assemble
	kubeconfig string
	logLevel   string
	logJSON    bool
}

// env returns the environment variable's value or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// parseFlags reads flags, with the downward API's environment variables
// (POD_NAME, POD_NAMESPACE, POD_IP, POD_UID) and TENURE_* as defaults.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("tenure-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	cluster := fs.String("cluster", env("TENURE_CLUSTER", ""), "cluster name (TENURE_CLUSTER)")
	member := fs.String("name", env("POD_NAME", ""), "member name, the pod name (POD_NAME)")
	c := podagent.Default(*cluster, *member)
	fs.StringVar(&c.Namespace, "namespace", env("POD_NAMESPACE", c.Namespace), "namespace (POD_NAMESPACE)")
	fs.StringVar(&c.PodUID, "pod-uid", env("POD_UID", ""), "pod UID (POD_UID); set when running in a pod: enables role labels")
	fs.StringVar(&c.ConnectHost, "pod-ip", env("POD_IP", ""), "address peers reach this member at (POD_IP)")
	fs.StringVar(&c.DataDir, "data-dir", env("PGDATA", ""), "postgres data directory (PGDATA)")
	fs.StringVar(&c.BinDir, "bin-dir", env("TENURE_PG_BIN", c.BinDir), "postgres binaries")
	fs.StringVar(&c.SocketDir, "socket-dir", env("TENURE_SOCKET_DIR", "/var/run/postgresql"), "postgres unix socket directory")
	fs.StringVar(&c.ListenAddress, "listen", c.ListenAddress, "postgres listen_addresses")
	fs.IntVar(&c.Port, "port", c.Port, "postgres port")
	fs.StringVar(&c.APIListen, "api-listen", c.APIListen, "REST API listen address")
	apiURL := fs.String("api-url", env("TENURE_API_URL", ""), "how peers reach this REST API (default http://POD_IP:8008)")
	tokenFile := fs.String("api-token-file", env("TENURE_API_TOKEN_FILE", ""),
		"file with the bearer token the REST API requires on unsafe methods, shared by the cluster's members (TENURE_API_TOKEN_FILE); required unless --api-insecure")
	o.api = api.DefaultConfig()
	fs.BoolVar(&o.api.Insecure, "api-insecure", false, "serve the REST API's unsafe methods (switchover, restart, config, ...) with no token: local runs and tests only")
	fs.StringVar(&o.api.CertFile, "api-cert-file", env("TENURE_API_CERT_FILE", ""), "serve the REST API over HTTPS with this PEM certificate (reloaded when it changes)")
	fs.StringVar(&o.api.KeyFile, "api-key-file", env("TENURE_API_KEY_FILE", ""), "... and this PEM key")
	fs.StringVar(&c.APICAFile, "api-ca-file", env("TENURE_API_CA_FILE", ""), "CA (PEM) that peers' HTTPS REST APIs are verified against (default: system roots)")
	fs.DurationVar(&o.api.ReadHeaderTimeout, "api-read-header-timeout", o.api.ReadHeaderTimeout, "REST API: time to read a request's headers")
	fs.DurationVar(&o.api.ReadTimeout, "api-read-timeout", o.api.ReadTimeout, "REST API: time to read a whole request")
	fs.DurationVar(&o.api.IdleTimeout, "api-idle-timeout", o.api.IdleTimeout, "REST API: close keep-alive connections idle this long")
	fs.IntVar(&o.api.MaxConns, "api-max-conns", o.api.MaxConns, "REST API: concurrent connections at most")
	fs.IntVar(&o.api.MaxConnsPerHost, "api-max-conns-per-host", o.api.MaxConnsPerHost, "REST API: concurrent connections from one address at most")
	fs.StringVar(&o.kubeconfig, "kubeconfig", env("KUBECONFIG", ""), "kubeconfig (in-cluster config when empty)")
	fs.DurationVar(&c.TTL, "ttl", c.TTL, "leader lock TTL")
	fs.DurationVar(&c.RenewDeadline, "renew-deadline", c.RenewDeadline, "leader renew deadline (< ttl)")
	fs.DurationVar(&c.RetryPeriod, "retry-period", c.RetryPeriod, "leader renewal period")
	fs.DurationVar(&c.LoopWait, "loop-wait", c.LoopWait, "longest sleep of the HA loop without an event")
	fs.Uint64Var(&c.MaximumLagOnFailover, "maximum-lag-on-failover", c.MaximumLagOnFailover, "bytes a candidate may lag the best live member")
	syncMode := fs.String("sync-mode", string(c.SyncMode), "synchronous mode: off, on, strict")
	fs.IntVar(&c.SyncNodeCount, "sync-node-count", c.SyncNodeCount, "synchronous standbys")
	fs.BoolVar(&c.FailsafeMode, "failsafe", c.FailsafeMode, "keep a primary confirmed by a majority of members over REST during an API outage")
	fs.BoolVar(&c.CommitGate, "commit-gate", c.CommitGate,
		"commits wait for this agent's confirmation, given only while its lease is fresh: a frozen agent's primary takes no writes (off: one local round trip less per commit, and no such guarantee)")
	fs.BoolVar(&c.RecloneOnRewindFailure, "reclone-on-rewind-failure", false, "wipe and re-clone a former primary that cannot be rewound")
	fs.BoolVar(&c.Tags.NoFailover, "nofailover", false, "never promote this member")
	fs.BoolVar(&c.Tags.NoSync, "nosync", false, "never make this member a synchronous standby")
	fs.IntVar(&c.Tags.FailoverPriority, "failover-priority", 0, "tie-break preference among equally caught-up candidates")
	fs.BoolVar(&c.TrustLoopback, "trust-loopback", false, "trust 127.0.0.0/8 in pg_hba (local runs, tests)")
	params := fs.String("pg-params", env("TENURE_PG_PARAMS", ""),
		"comma-separated postgresql.conf parameters name=value, under the cluster's configuration (TENURE_PG_PARAMS; the image preloads pg_stat_statements this way)")
	hba := fs.String("pg-hba", env("TENURE_PG_HBA", ""),
		"extra pg_hba.conf lines, separated by ';', before the agent's defaults (TENURE_PG_HBA), e.g. 'host all all 10.0.0.0/8 trust'")
	archiveConfig := fs.String("archive-config", env("TENURE_ARCHIVE", ""),
		"this cluster's WAL archive (JSON, see walarchive/wal.Config; TENURE_ARCHIVE): archiving, restore_command, replicas from backups")
	sourceConfig := fs.String("bootstrap-from", env("TENURE_BOOTSTRAP_FROM", ""),
		"another cluster's WAL archive (JSON) to create this cluster from instead of initdb: a clone (TENURE_BOOTSTRAP_FROM)")
	fs.BoolVar(&c.Archive.StandbyCluster, "standby-cluster", false,
		"follow the --bootstrap-from archive continuously; `tenure edit-config --set standby_cluster=false` promotes")
	fs.StringVar(&c.Archive.StandbyHost, "standby-host", "",
		"with --standby-cluster: the source cluster's primary (host:port) to stream from, besides its archive")
	var backup backupFlags
	fs.StringVar(&backup.schedule, "backup-schedule", env("TENURE_BACKUP_SCHEDULE", ""),
		"take base backups into --archive-config on this cron schedule, on the leader (\"0 3 * * *\", @daily; UTC unless CRON_TZ=zone)")
	fs.BoolVar(&backup.immediate, "backup-immediate", false, "with no backup in the archive yet, take the first at once instead of at the first slot")
	fs.IntVar(&backup.keepLast, "backup-keep-last", 0, "after each scheduled backup, keep the newest N backups (and the WAL they need)")
	fs.DurationVar(&backup.keepWithin, "backup-keep-within", 0, "... and those that ended within this long (e.g. 168h); with neither, nothing is pruned")
	var target restore.TargetFlags
	target.Register(fs, "clone-target-")
	fs.Int64Var(&c.Archive.ReplicaMinSize, "replica-from-archive-min-size", podagent.DefaultReplicaMinSize,
		"build a new replica from the archive's newest base backup when it holds at least this many bytes (-1: never)")
	fs.IntVar(&c.Archive.ReplicaMaxWALPercent, "replica-from-archive-max-wal-percent", podagent.DefaultReplicaMaxWALPercent,
		"... and the WAL to replay after it is at most this percentage of its size (0: no limit)")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level")
	fs.BoolVar(&o.logJSON, "log-json", false, "JSON logs")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	c.Cluster, c.Member, c.SyncMode = *cluster, *member, ha.SyncMode(*syncMode)
	if *apiURL == "" && c.ConnectHost != "" {
		scheme := "http://"
		if o.api.CertFile != "" {
			scheme = "https://"
		}
		*apiURL = scheme + c.ConnectHost + ":8008"
	}
	c.APIURL = *apiURL
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return o, fmt.Errorf("read api token: %w", err)
		}
		c.APIToken = strings.TrimSpace(string(b))
		if c.APIToken == "" {
			return o, fmt.Errorf("--api-token-file %s is empty", *tokenFile)
		}
	}

	var err error
	if c.Parameters, err = parseParams(*params); err != nil {
		return o, err
	}
	c.HBA = parseHBA(*hba)
	if err := archiveFlags(&c.Archive, *archiveConfig, *sourceConfig, &target); err != nil {
		return o, err
	}
	c.Archive.Backup = backup.config()
	o.cfg = c
	if err := c.Validate(); err != nil {
		return o, err
	}
	if c.APIToken == "" && !o.api.Insecure {
		return o, errors.New("no REST API token: give --api-token-file (TENURE_API_TOKEN_FILE), the cluster's shared token, or --api-insecure to serve switchover, restart and config changes to anyone")
	}
	o.api.Token = c.APIToken
	return o, o.api.Validate()
}

func parseParams(s string) (map[string]string, error) {
	out := map[string]string{}
	if s == "" {
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--pg-params: %q is not name=value", kv)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// parseHBA splits --pg-hba into lines; pgconf validates each one.
func parseHBA(s string) []string {
	var out []string
	for _, line := range strings.Split(s, ";") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// archiveFlags loads the archive configurations the flags name.
func archiveFlags(a *podagent.ArchiveConfig, own, source string, target *restore.TargetFlags) error {
	if own == "" && source == "" {
		return nil // Validate refuses --standby-cluster with no source
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("locate the tenure-agent executable for archive_command: %w", err)
	}
	a.Agent = exe
	if own != "" {
		cfg, err := wal.LoadConfig(own)
		if err != nil {
			return fmt.Errorf("--archive-config: %w", err)
		}
		a.Own = &cfg
	}
	if source != "" {
		if a.SourcePath, err = filepath.Abs(source); err != nil {
			return fmt.Errorf("--bootstrap-from: %w", err)
		}
		cfg, err := wal.LoadConfig(a.SourcePath)
		if err != nil {
			return fmt.Errorf("--bootstrap-from: %w", err)
		}
		a.Source = &cfg
	}
	if a.Target, err = target.Target(restore.Latest); err != nil {
		return err
	}
	return nil
}

type backupFlags struct {
	schedule   string
	immediate  bool
	keepLast   int
	keepWithin time.Duration
}

// config is the backup schedule the flags ask for, nil for none.
func (b backupFlags) config() *schedule.Config {
	if b.schedule == "" && b.keepLast == 0 && b.keepWithin == 0 && !b.immediate {
		return nil
	}
	c := &schedule.Config{Schedule: b.schedule, Immediate: b.immediate}
	if b.keepLast != 0 || b.keepWithin != 0 {
		c.Retention = &retention.Policy{KeepLast: b.keepLast, KeepWithin: b.keepWithin}
	}
	return c
}
