package podagent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenure-pg/tenure/podagent/api"
	"github.com/tenure-pg/tenure/podagent/pgctl"
	"github.com/tenure-pg/tenure/walarchive/catalog"
	"github.com/tenure-pg/tenure/walarchive/codec"
	"github.com/tenure-pg/tenure/walarchive/restore"
	"github.com/tenure-pg/tenure/walarchive/schedule"
	"github.com/tenure-pg/tenure/walarchive/storage"
	"github.com/tenure-pg/tenure/walarchive/wal"
	"github.com/tenure-pg/tenure/walarchive/walsvc"
)

// ArchiveConfig connects the agent to WAL archives (package walarchive).
// The zero value means no archive.
type ArchiveConfig struct {
	// Own is this cluster's archive: archive_command pushes to it, every
	// member's restore_command fetches from it (a replica whose primary
	// recycled a segment, pg_rewind of a former primary), and replicas may
	// be built from its base backups.
	Own *wal.Config
	// Source is another cluster's archive, which the bootstrap winner
	// restores instead of running initdb: a clone (recovering to Target,
	// then promoting) or, with StandbyCluster, the first member of a
	// standby cluster. SourcePath is its JSON file, which the source
	// restore_command names.
	Source     *wal.Config
	SourcePath string
	Target     restore.Target
	// StandbyCluster: the leader keeps replaying Source until the dynamic
	// configuration says standby_cluster: false.
	StandbyCluster bool
	// StandbyHost ("host:port", the source cluster's primary Service) makes
	// a standby cluster's leader stream from the source as well, as
	// Patroni's standby_cluster.host: changes arrive at once instead of a
	// segment at a time, and Source's archive covers what the stream
	// lacks. Without Source, the first member is cloned from it with
	// pg_basebackup.
	StandbyHost string
	// ReplicaMinSize: a new replica is restored from Own's newest base
	// backup (then streams) instead of running pg_basebackup against the
	// leader when that backup holds at least this many bytes; negative
	// means never. Small databases clone faster from the leader.
	ReplicaMinSize int64
	// ReplicaMaxWALPercent: ... and when the WAL to replay after it (from
	// the backup's start to the leader's position) is at most this
	// percentage of the backup's size (Patroni's
	// threshold_backup_size_percentage, default 30); 0 means no limit.
	// Replaying more takes longer than copying the leader.
	ReplicaMaxWALPercent int
	// Backup schedules base backups into Own, taken by the leader; nil
	// means none (backups by hand: tenure backup create).
	Backup *schedule.Config
	// Agent is the tenure-agent executable postgres runs in
	// archive_command and restore_command.
	Agent string
	// Service tunes the WAL service; DataDir is filled in.
	Service walsvc.Config
}

// DefaultReplicaMinSize: restore replicas bigger than this from the
// archive. Below it pg_basebackup is about as fast and needs no backup.
const DefaultReplicaMinSize = 1 << 30

// DefaultReplicaMaxWALPercent: see ArchiveConfig.ReplicaMaxWALPercent.
const DefaultReplicaMaxWALPercent = 30

// ownConfigFile is the own archive's configuration in the data directory,
// where wal-push and wal-fetch find it by default (postgres runs them
// there) and hand off to the agent's WAL service.
const ownConfigFile = "tenure-archive.json"

// Validate reports every problem at once.
func (c ArchiveConfig) Validate() error {
	var errs []error
	if c.Own != nil {
		if err := c.Own.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("archive: %w", err))
		}
	}
	if c.Source != nil {
		if err := c.Source.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("source archive: %w", err))
		}
		if !filepath.IsAbs(c.SourcePath) {
			errs = append(errs, fmt.Errorf("source archive file %q: want an absolute path (postgres reads it from the data directory)", c.SourcePath))
		}
		if err := c.Target.Validate(); err != nil {
			errs = append(errs, err)
		}
		if c.Own != nil && c.Own.Archive == c.Source.Archive && sameStore(*c.Own, *c.Source) {
			errs = append(errs, errors.New("source archive is this cluster's own archive: a clone needs its own uid"))
		}
	}
	if c.Backup != nil {
		if c.Own == nil {
			errs = append(errs, errors.New("a backup schedule needs this cluster's archive (--archive-config)"))
		}
		if err := c.Backup.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.ReplicaMaxWALPercent < 0 {
		errs = append(errs, fmt.Errorf("replica max WAL percent %d: want 0 (no limit) or more", c.ReplicaMaxWALPercent))
	}
	if c.StandbyCluster && c.Source == nil && c.StandbyHost == "" {
		errs = append(errs, errors.New("a standby cluster needs a source archive (--bootstrap-from) or a source host (--standby-host)"))
	}
	if c.StandbyHost != "" {
		if !c.StandbyCluster {
			errs = append(errs, errors.New("--standby-host applies to a standby cluster (--standby-cluster)"))
		}
		if host, port, err := net.SplitHostPort(c.StandbyHost); err != nil || host == "" || port == "" || strings.ContainsAny(host, " '\\=") {
			errs = append(errs, fmt.Errorf("standby host %q: want host:port", c.StandbyHost))
		}
	}
	if c.StandbyCluster && c.Target.Kind != restore.Latest {
		errs = append(errs, fmt.Errorf("a standby cluster follows its source to the end; target %s applies to clones only", c.Target))
	}
	if (c.Own != nil || c.Source != nil) && (!filepath.IsAbs(c.Agent) || strings.ContainsAny(c.Agent, " '\"\\%")) {
		errs = append(errs, fmt.Errorf("agent executable %q: want an absolute path without spaces, quotes or %%", c.Agent))
	}
	return errors.Join(errs...)
}

func sameStore(a, b wal.Config) bool {
	if a.Store != b.Store || a.FSRoot != b.FSRoot {
		return false
	}
	if a.S3 == nil || b.S3 == nil {
		return a.S3 == b.S3
	}
	return a.S3.Endpoint == b.S3.Endpoint && a.S3.Bucket == b.S3.Bucket && a.S3.Prefix == b.S3.Prefix
}

// archiving is the agent's archive machinery, built by New.
type archiving struct {
	cfg      ArchiveConfig
	own      storage.Store
	archiver *wal.Archiver // own archive; also the WAL service's pusher and fetcher
	svc      *walsvc.Server
	sched    *schedule.Runner // nil without a backup schedule
	ownCodec codec.Options
	source   storage.Store
	srcKey   []byte
}

func newArchiving(dataDir string, c ArchiveConfig, log hclog.Logger) (*archiving, error) {
	if c.Own == nil && c.Source == nil && c.StandbyHost == "" {
		return nil, nil
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	ctx := context.Background() // opening a store connects nowhere yet
	x := &archiving{cfg: c}
	if c.Own != nil {
		var err error
		if x.own, err = wal.OpenStore(ctx, *c.Own); err != nil {
			return nil, err
		}
		if x.archiver, err = wal.New(*c.Own, x.own, log.Named("wal")); err != nil {
			return nil, err
		}
		if x.ownCodec, err = c.Own.CodecOptions(); err != nil {
			return nil, err
		}
		sc := c.Service
		if sc.Concurrency == 0 {
			sc = walsvc.Default()
		}
		sc.DataDir, sc.SegmentSize = dataDir, c.Own.SegmentSize
		if x.svc, err = walsvc.New(sc, x.archiver, x.archiver, log.Named("walsvc")); err != nil {
			return nil, err
		}
	}
	if c.Source != nil {
		var err error
		if x.source, err = wal.OpenStore(ctx, *c.Source); err != nil {
			return nil, fmt.Errorf("source archive: %w", err)
		}
		opts, err := c.Source.CodecOptions()
		if err != nil {
			return nil, fmt.Errorf("source archive: %w", err)
		}
		x.srcKey = opts.Key
	}
	return x, nil
}

// schedule makes the backup schedule's runner; source says whether this
// member may take a backup now, and how to reach its postgres.
func (x *archiving) schedule(source func() (string, bool), log hclog.Logger) error {
	if x == nil || x.cfg.Backup == nil {
		return nil
	}
	r, err := schedule.New(*x.cfg.Backup, schedule.Deps{Store: x.own, Archive: x.cfg.Own.Archive, Codec: x.ownCodec,
		Log: log.Named("backup"), Source: source})
	if err != nil {
		return err
	}
	x.sched = r
	return nil
}

// commands are archive_command and restore_command for the own archive.
func (x *archiving) commands() (archive, restoreCmd string) {
	if x == nil || x.cfg.Own == nil {
		return "", ""
	}
	return x.cfg.Agent + " wal-push %p", x.cfg.Agent + " wal-fetch %f %p"
}

// sourceRestoreCommand fetches from the source archive. It names the
// source's file, so the command never hands off to the agent's service,
// which serves the own archive.
func (x *archiving) sourceRestoreCommand() string {
	return x.cfg.Agent + " wal-fetch --config " + x.cfg.SourcePath + " %f %p"
}

// collectors are the archive's Prometheus collectors.
func (x *archiving) collectors(dataDir string) []prometheus.Collector {
	if x == nil || x.archiver == nil {
		return nil
	}
	cs := []prometheus.Collector{x.archiver.Collector(filepath.Join(dataDir, "pg_wal")), x.svc.Collector()}
	if x.sched != nil {
		cs = append(cs, x.sched.Collector())
	}
	return cs
}

// run serves the WAL service and runs the backup schedule until ctx ends.
func (x *archiving) run(ctx context.Context) {
	if x == nil {
		return
	}
	if x.sched != nil {
		go func() { _ = x.sched.Run(ctx) }()
	}
	if x.svc != nil {
		_ = x.svc.Run(ctx)
	}
}

// saveOwnConfig writes the own archive's configuration into the data
// directory before postgres starts.
func (x *archiving) saveOwnConfig(dataDir string) error {
	if x == nil || x.cfg.Own == nil {
		return nil
	}
	return x.cfg.Own.Save(filepath.Join(dataDir, ownConfigFile))
}

// status is the archive's part of the REST status: postgres's own
// account of archive_command (pg_stat_archiver, which counts standalone
// pushes too) with the agent's byte counts, errors and fetches.
func (x *archiving) status(dataDir string, pg pgctl.Archiver) *api.ArchiveInfo {
	if x == nil || x.archiver == nil {
		return nil
	}
	s := x.archiver.Status()
	info := &api.ArchiveInfo{
		LastArchived: pg.LastArchived, LastFailed: pg.LastFailed, LastError: s.LastError,
		Archived: pg.Archived, Failed: pg.Failed, Fetched: s.Fetched, FetchFailed: s.FetchFailed,
		ArchivedBytes: s.ArchivedBytes, StoredBytes: s.StoredBytes,
		LastArchivedAt: rfc3339(pg.LastArchivedAt), LastFailedAt: rfc3339(pg.LastFailedAt),
	}
	if n, err := wal.ReadyFiles(filepath.Join(dataDir, "pg_wal", "archive_status")); err == nil {
		info.ReadyFiles = n
		info.ReadyBytes = uint64(n) * uint64(x.cfg.Own.SegmentSize)
	}
	if x.sched != nil {
		info.Backup = backupInfo(x.sched.Status())
	}
	return info
}

func backupInfo(s schedule.Status) *api.BackupInfo {
	b := &api.BackupInfo{Schedule: s.Schedule, LastBackup: s.LastBackupID, LastError: s.LastError, Running: s.Running,
		LastSuccessAt: rfc3339(s.LastSuccess), LastFailureAt: rfc3339(s.LastFailure)}
	if s.Active {
		b.NextAt = rfc3339(s.Next)
	}
	return b
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// restoreSource restores the source archive into the empty data
// directory: a clone recovers to the target and promotes itself; a
// standby cluster's first member gets standby.signal and replays the
// source through the restore_command the agent renders for it.
func (a *Agent) restoreSource(ctx context.Context) error {
	x := a.arch
	switch {
	case x == nil:
		return errors.New("no source cluster configured")
	case x.source == nil:
		// A standby cluster of a live source with no archive (Validate
		// allows nothing else): copy its primary; the leader then streams
		// from it.
		return a.pg.Basebackup(ctx, pgctl.BasebackupOptions{ConnString: a.standbyConnInfo("pg_basebackup"), CheckpointFast: true})
	}
	opts := restore.Options{Store: x.source, Archive: x.cfg.Source.Archive, Key: x.srcKey, DataDir: a.cfg.DataDir,
		RestoreCommand: x.sourceRestoreCommand(), Standby: x.cfg.StandbyCluster, Log: a.log.Named("restore")}
	return a.restoreFrom(ctx, opts, x.cfg.Target)
}

// restoreFrom plans the restore of opts' archive to target and carries it
// out, refusing before writing anything when the archive cannot reach it.
func (a *Agent) restoreFrom(ctx context.Context, opts restore.Options, target restore.Target) error {
	o, err := restore.Observe(ctx, opts.Store, opts.Archive, opts.Key)
	if err != nil {
		return fmt.Errorf("read archive %s: %w", opts.Archive.Root(), err)
	}
	o.Target = target
	plan, err := restore.Decide(o)
	if err != nil {
		return fmt.Errorf("archive %s: %w", opts.Archive.Root(), err)
	}
	began := a.clock.Now()
	if err := restore.Execute(ctx, plan, opts); err != nil {
		// A half-restored directory is no cluster: empty it so the next
		// attempt (or pg_basebackup) starts afresh rather than refusing.
		if werr := a.pg.Wipe(context.WithoutCancel(ctx)); werr != nil {
			a.log.Error("could not empty the data directory after a failed restore", "error", werr)
		}
		return fmt.Errorf("restore backup %s: %w", plan.Backup.ID, err)
	}
	a.log.Info("restored from the archive", "archive", opts.Archive.Root(), "backup", plan.Backup.ID,
		"target", target.String(), "standby", opts.Standby, "took", a.clock.Since(began).Round(time.Millisecond))
	return nil
}

// replicaFromArchive builds this replica from the own archive's newest
// base backup, as a standby that replays the archive and then streams.
// It reports false, leaving the directory empty, when the archive has no
// backup worth it or none that restores: the caller clones the leader.
func (a *Agent) replicaFromArchive(ctx context.Context) bool {
	x := a.arch
	if x == nil || x.own == nil || x.cfg.ReplicaMinSize < 0 {
		return false
	}
	l, err := catalog.List(ctx, x.own, x.cfg.Own.Archive)
	if err != nil {
		a.log.Warn("cannot list base backups; cloning the leader instead", "error", err)
		return false
	}
	newest, ok := l.Newest()
	if !ok || newest.RawSize < x.cfg.ReplicaMinSize {
		return false
	}
	v := a.store.View()
	leaderLSN := v.Members[v.Lock.Holder].FlushedLSN
	if pct := x.cfg.ReplicaMaxWALPercent; pct > 0 && leaderLSN > uint64(newest.StartLSN) {
		if replay := leaderLSN - uint64(newest.StartLSN); replay*100 > uint64(pct)*uint64(newest.RawSize) {
			a.log.Info("newest base backup is too far behind the leader; cloning the leader instead",
				"backup", newest.ID, "wal_to_replay", replay, "backup_bytes", newest.RawSize, "max_percent", pct)
			return false
		}
	}
	// Standby: no recovery settings are written; the replica's rendered
	// configuration brings restore_command and primary_conninfo.
	opts := restore.Options{Store: x.own, Archive: x.cfg.Own.Archive, Key: x.ownCodec.Key, DataDir: a.cfg.DataDir,
		Standby: true, Log: a.log.Named("restore")}
	if err := a.restoreFrom(ctx, opts, restore.Target{Kind: restore.Latest}); err != nil {
		a.log.Warn("replica from the archive failed; cloning the leader instead", "error", err)
		return false
	}
	return true
}

// finishRestore ends a clone's recovery: the restore's settings (its
// target, the source's restore_command) leave postgresql.auto.conf so the
// primary and every replica cloned from it use the agent's own, and the
// replication role is made sure of.
func (a *Agent) finishRestore(ctx context.Context) error {
	if err := restore.ClearRecoverySettings(a.cfg.DataDir); err != nil {
		return err
	}
	if err := a.pg.Reload(ctx); err != nil {
		return err
	}
	a.log.Info("recovery from the archive finished; restore settings removed")
	return a.pg.EnsureRole(ctx, a.cfg.ReplicationUser, "", true)
}

// restoreShort says why the clone's recovery, which postgres ended on
// timeline tli's start, stopped before the end of the source archive that
// the restore recorded (restore.EndFile), or "" when it did not or there
// is no end to check (a target other than latest). Not knowing where
// recovery ended counts as short: finishing would make a primary of it.
func restoreShort(dataDir string, tli int64, log hclog.Logger) string {
	end, ok, err := restore.ReadEnd(dataDir)
	if err == nil && !ok {
		return ""
	}
	var reached restore.Reached
	if err == nil {
		reached, err = restore.ReadReached(dataDir, uint32(tli))
	}
	if err != nil {
		log.Warn("cannot tell where the clone's recovery ended", "error", err)
		return "cannot tell where recovery ended: " + err.Error()
	}
	if why := end.Short(reached); why != "" {
		return why + "; reached " + reached.String()
	}
	return ""
}

// abandonedRestore is the reason recorded in the incomplete-restore
// marker, "" without one.
func abandonedRestore(dataDir string) string {
	why, ok := restore.IncompleteReason(dataDir)
	if ok && why == "" {
		why = "a restore was cut short"
	}
	return why
}

// abandonRestore stops a clone whose recovery promoted short of its
// archive's end at once (immediate: nothing of it is worth a checkpoint)
// and marks its data directory incomplete with why, so that it is never
// started as the cluster's primary; an agent restart empties it and
// restores again.
func (a *Agent) abandonRestore(ctx context.Context, why string) error {
	a.setState("restore stopped short")
	a.log.Error("recovery of the restored backup stopped short of the source archive; abandoning it", "reason", why)
	if err := a.pg.Stop(ctx, pgctl.Immediate); err != nil {
		return fmt.Errorf("abandon restore: %w", err)
	}
	return restore.MarkIncomplete(a.cfg.DataDir, why)
}

// backupSource is the schedule's Source: this member takes the scheduled
// backups while it leads with a writable primary, over its local socket.
func (a *Agent) backupSource() (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.mem.pgRunning || a.mem.pgStatus.InRecovery || !a.leadingLocked(a.store.View(), a.clock.Now()) {
		return "", false
	}
	return fmt.Sprintf("host=%s port=%d user=%s dbname=postgres", a.cfg.SocketDir, a.cfg.Port, a.cfg.Superuser), true
}

// dropIncompleteRestore empties a data directory that a restore left
// unfinished (the agent died during it): it holds nothing but part of a
// backup, and the bootstrap then starts over.
func (a *Agent) dropIncompleteRestore(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(a.cfg.DataDir, restore.IncompleteMarker)); err != nil {
		return nil
	}
	a.log.Warn("data directory holds a restore cut short; emptying it to start over")
	a.forgetData()
	return a.pg.Wipe(ctx)
}

// standbyConnInfo is primary_conninfo (or pg_basebackup's connection) to
// the source cluster's primary, for a standby cluster's leader.
func (a *Agent) standbyConnInfo(app string) string {
	return conninfo("postgres://"+a.cfg.Archive.StandbyHost, a.cfg.ReplicationUser, app, "")
}
