package podagent

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/ha"
	"github.com/tenure-pg/tenure/podagent/pgconf"
)

// Config is the agent's configuration, parsed once in main.
type Config struct {
	Namespace string
	Cluster   string
	Member    string
	// PodUID is set when the agent runs in a pod (downward API): it then
	// labels its pod and owns its heartbeat through it.
	PodUID string

	// DataDir, BinDir and SocketDir locate postgres; ListenAddress and Port
	// are where it listens, and ConnectHost how peers reach it (the pod IP).
	DataDir       string
	BinDir        string
	SocketDir     string
	ListenAddress string
	ConnectHost   string
	Port          int
	Superuser     string
	// ReplicationUser is the role replicas connect as.
	ReplicationUser string
	// TrustLoopback trusts 127.0.0.0/8 in pg_hba (local runs and tests).
	TrustLoopback bool
	// HBA are extra pg_hba.conf lines, before the agent's defaults: how a
	// deployment without passwords yet lets peers in (a container network
	// trusted by CIDR), or narrows access.
	HBA        []string
	Parameters map[string]string

	// APIListen is the REST API's listen address; APIURL how peers reach it.
	APIListen string
	APIURL    string
	// APIToken is the bearer token for unsafe REST methods (read from a
	// file or Secret by main; never logged). Peers present it too: every
	// member of a cluster has the same one.
	APIToken string
	// APICAFile verifies peers whose APIURL is https (PEM); empty means
	// the system roots.
	APICAFile string

	// Timings; see leaderelect.Options.
	TTL           time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
	LoopWait      time.Duration

	// ArchiveCommand and RestoreCommand, when set, turn WAL archiving on
	// (archive_mode = on) and let every member fetch archived WAL: a
	// replica whose primary recycled a segment it still needs, and pg_rewind
	// of a former primary (--restore-target-wal). See package walarchive.
	ArchiveCommand string
	RestoreCommand string
	// Archive connects the agent to WAL archives: its own (archiving, the
	// WAL service, replicas from backups) and a source to clone or follow.
	// ArchiveCommand and RestoreCommand default to the own archive's.
	Archive ArchiveConfig

	MaximumLagOnFailover   uint64
	SyncMode               ha.SyncMode
	SyncNodeCount          int
	FailsafeMode           bool
	RecloneOnRewindFailure bool
	Tags                   leaderelect.Tags
	// CommitGate makes every commit on this member's primary wait for the
	// agent's own confirmation, given only while its lease is fresh (see
	// package gate). Off, a frozen agent leaves a primary that accepts
	// writes after another member was promoted.
	CommitGate bool
}

// Default returns the defaults for member of cluster.
func Default(cluster, member string) Config {
	lo := leaderelect.Default(cluster, member)
	return Config{
		Namespace:            "default",
		Cluster:              cluster,
		Member:               member,
		BinDir:               "/usr/lib/postgresql/15/bin",
		ListenAddress:        "0.0.0.0",
		Port:                 5432,
		Superuser:            "postgres",
		ReplicationUser:      "replicator",
		APIListen:            ":8008",
		TTL:                  lo.TTL,
		RenewDeadline:        lo.RenewDeadline,
		RetryPeriod:          lo.RetryPeriod,
		LoopWait:             5 * time.Second,
		MaximumLagOnFailover: 1 << 20,
		SyncMode:             ha.SyncOff,
		SyncNodeCount:        1,
		FailsafeMode:         true,
		CommitGate:           true,
	}
}

// StoreOptions are the leaderelect options this configuration implies.
func (c Config) StoreOptions() leaderelect.Options {
	o := leaderelect.Default(c.Cluster, c.Member)
	o.TTL, o.RenewDeadline, o.RetryPeriod = c.TTL, c.RenewDeadline, c.RetryPeriod
	return o
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := c.StoreOptions().Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Namespace == "" {
		bad("namespace is empty")
	}
	if c.DataDir == "" {
		bad("data directory is empty")
	}
	if c.Port <= 0 || c.Port > 65535 {
		bad("postgres port %d out of range", c.Port)
	}
	if c.ConnectHost == "" || net.ParseIP(c.ConnectHost) == nil && c.ConnectHost != "localhost" {
		bad("connect host %q: need the IP peers reach postgres at (the pod IP)", c.ConnectHost)
	}
	if c.APIURL == "" {
		bad("api url is empty: peers need it to rank candidates")
	}
	if c.LoopWait <= 0 {
		bad("loop wait %v must be positive", c.LoopWait)
	}
	switch c.SyncMode {
	case ha.SyncOff, ha.SyncOn, ha.SyncStrict:
	default:
		bad("synchronous mode %q: want off, on or strict", c.SyncMode)
	}
	if c.SyncNodeCount < 1 {
		bad("synchronous node count %d must be at least 1", c.SyncNodeCount)
	}
	if err := pgconf.ValidateParameters(c.Parameters); err != nil {
		errs = append(errs, fmt.Errorf("--pg-params: %w", err))
	}
	if err := c.Archive.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Superuser == "" || c.ReplicationUser == "" {
		bad("superuser and replication user must be named")
	}
	return errors.Join(errs...)
}

// ConnURL is how peers reach this member's postgres, as published in the
// heartbeat: Patroni's conn_url form, postgres://host:port/postgres.
func (c Config) ConnURL() string {
	return "postgres://" + net.JoinHostPort(c.ConnectHost, strconv.Itoa(c.Port)) + "/postgres"
}
