package basebackup

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tenure-pg/tenure/walarchive/catalog"
	"github.com/tenure-pg/tenure/walarchive/codec"
	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/storage"
)

// ErrWrongMajor: the server's major version is not the archive's.
var ErrWrongMajor = errors.New("server major version does not match the archive")

// Config is one backup's settings.
type Config struct {
	Store   storage.Store
	Archive layout.Archive
	Codec   codec.Options
	// Label is the backup label the server records (default "tenure <id>").
	Label string
	// Fast asks for an immediate checkpoint instead of a spread one: the
	// backup starts at once but the checkpoint's I/O burst hits the source.
	Fast bool
	// MaxRateKB throttles the server's sending (kB/s, 32..1048576; 0 = off).
	MaxRateKB int
	// Now is the clock for the ID and start/stop times (default time.Now).
	Now func() time.Time
	// Log gets one line per phase; default hclog.NewNullLogger().
	Log hclog.Logger
	// Progress, if set, is called from the receiving goroutine with the
	// bytes the server has sent and its estimate of the total (0 when
	// unknown). It must be quick.
	Progress func(done, total int64)
}

func (c Config) withDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = hclog.NewNullLogger()
	}
	c.Codec = c.Codec.Default()
	return c
}

// Validate checks the settings before anything connects.
func (c Config) Validate() error {
	if c.Store == nil {
		return errors.New("backup: no store")
	}
	if err := c.Archive.Validate(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := c.Codec.Default().Validate(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if c.MaxRateKB != 0 && (c.MaxRateKB < 32 || c.MaxRateKB > 1048576) {
		return fmt.Errorf("backup: max rate %d kB/s: want 32 to 1048576, or 0 for unlimited", c.MaxRateKB)
	}
	return nil
}

// Take backs up the server at dsn (a primary or a replica) into the
// archive and returns the completed backup's metadata. The DSN names any
// database; Take opens a physical replication connection to the server.
func Take(ctx context.Context, dsn string, cfg Config) (catalog.Meta, error) {
	if err := cfg.Validate(); err != nil {
		return catalog.Meta{}, err
	}
	cfg = cfg.withDefaults()
	conn, err := connect(ctx, dsn)
	if err != nil {
		return catalog.Meta{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))

	src, err := identify(ctx, conn)
	if err != nil {
		return catalog.Meta{}, err
	}
	if src.Major() != cfg.Archive.Major {
		return catalog.Meta{}, fmt.Errorf("backup: server is PostgreSQL %d, archive is for %d: %w", src.Major(), cfg.Archive.Major, ErrWrongMajor)
	}
	start := cfg.Now()
	m := catalog.Meta{
		Format: catalog.FormatVersion, ID: catalog.NewID(start), StartTime: start.UTC(),
		PGVersion: src.VersionNum, SystemID: src.SystemID, WALSegmentSize: src.SegmentSize,
		FromReplica: src.InRecovery, WALIncluded: true,
		Compression: string(cfg.Codec.Compression), Encrypted: len(cfg.Codec.Key) > 0,
		Label: cfg.Label,
	}
	if m.Label == "" {
		m.Label = "tenure " + m.ID
	}
	if err := catalog.CheckUnused(ctx, cfg.Store, cfg.Archive, m.ID); err != nil {
		return catalog.Meta{}, err
	}
	log := cfg.Log.With("backup", m.ID)
	if err := reserveWAL(ctx, conn, m.ID); err != nil {
		// Without the slot the backup still works when wal_keep_size or
		// the checkpoint distance keeps the WAL around long enough.
		log.Warn("could not reserve WAL with a temporary slot; WAL written during the backup may be recycled before it is sent", "error", err)
	}
	log.Info("backup starting", "system_identifier", m.SystemID, "replica", m.FromReplica)
	if err := run(ctx, conn, cfg, &m); err != nil {
		cleanup(ctx, cfg, m.ID, log)
		return catalog.Meta{}, err
	}
	if err := catalog.Write(ctx, cfg.Store, cfg.Archive, m); err != nil {
		cleanup(ctx, cfg, m.ID, log)
		return catalog.Meta{}, err
	}
	log.Info("backup complete", "start_lsn", m.StartLSN, "stop_lsn", m.StopLSN, "timeline", m.StopTimeline,
		"raw_bytes", m.RawSize, "stored_bytes", m.StoredSize, "seconds", m.StopTime.Sub(m.StartTime).Seconds())
	return m, nil
}

// run sends BASE_BACKUP and streams it into the store, filling m.
func run(ctx context.Context, conn *pgconn.PgConn, cfg Config, m *catalog.Meta) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := command{Label: m.Label, Fast: cfg.Fast, Progress: cfg.Progress != nil, MaxRate: cfg.MaxRateKB}
	startPos, tbs, err := startBackup(ctx, conn, cmd)
	if err != nil {
		return fmt.Errorf("backup %s: %w", m.ID, err)
	}
	m.StartLSN, m.Timeline = startPos.LSN, startPos.Timeline
	s := &streamSink{cfg: cfg, id: m.ID, progressFn: cfg.Progress}
	for _, tb := range tbs {
		s.total += tb.SizeKB * 1024
	}
	endPos, err := receive(ctx, conn, s)
	if err == nil {
		err = s.end(nil)
	} else {
		cancel() // fail the in-flight Put before it can complete
		_ = s.end(err)
	}
	if err != nil {
		return fmt.Errorf("backup %s: %w", m.ID, err)
	}
	m.StopLSN, m.StopTimeline = endPos.LSN, endPos.Timeline
	m.StopTime = cfg.Now().UTC()
	for _, a := range s.done {
		m.RawSize += a.Raw
		m.StoredSize += a.Stored
		if a.Name == manifestName {
			a := a
			m.Manifest = &a
			continue
		}
		m.Archives = append(m.Archives, a)
	}
	return nil
}

// cleanup removes what a failed backup stored, best effort: a leftover is
// listed as incomplete and retention removes it later.
func cleanup(ctx context.Context, cfg Config, id string, log hclog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := catalog.Delete(ctx, cfg.Store, cfg.Archive, id); err != nil && !errors.Is(err, catalog.ErrNoBackup) {
		log.Warn("could not remove the failed backup's objects; it stays listed as incomplete", "error", err)
	}
}

const manifestName = "backup_manifest"

// streamSink routes the COPY stream to one upload per archive.
type streamSink struct {
	cfg        Config
	id         string
	cur        *upload
	curArchive catalog.Archive
	done       []catalog.Archive
	total      int64
	progressFn func(done, total int64)
}

func (s *streamSink) archive(ctx context.Context, name, location string) error {
	a := catalog.Archive{Name: name, Location: location}
	if oid, ok := strings.CutSuffix(name, ".tar"); ok && name != "base.tar" {
		n, err := strconv.ParseUint(oid, 10, 32)
		if err != nil {
			return fmt.Errorf("backup stream: %w: archive %q", ErrProtocol, name)
		}
		a.Tablespace = uint32(n)
	} else if name != "base.tar" {
		return fmt.Errorf("backup stream: %w: archive %q", ErrProtocol, name)
	}
	return s.next(ctx, a)
}

func (s *streamSink) manifest(ctx context.Context) error {
	return s.next(ctx, catalog.Archive{Name: manifestName})
}

func (s *streamSink) next(ctx context.Context, a catalog.Archive) error {
	if err := s.end(nil); err != nil {
		return err
	}
	u, err := startUpload(ctx, s.cfg.Store, s.cfg.Archive.Backup(s.id, a.Name), s.cfg.Codec)
	if err != nil {
		return err
	}
	s.cur, s.curArchive = u, a
	s.cfg.Log.Debug("archive started", "backup", s.id, "archive", a.Name)
	return nil
}

func (s *streamSink) data(p []byte) error {
	if s.cur == nil {
		return fmt.Errorf("backup stream: %w: data before any archive", ErrProtocol)
	}
	s.cur.write(p)
	return nil
}

func (s *streamSink) progress(done int64) {
	if s.progressFn != nil {
		s.progressFn(done, s.total)
	}
}

// end closes the current upload, if any; a non-nil abort discards it.
func (s *streamSink) end(abort error) error {
	if s.cur == nil {
		return nil
	}
	info, err := s.cur.close(abort)
	s.cur = nil
	if err != nil {
		return err
	}
	a := s.curArchive
	a.Raw, a.Stored, a.SHA256 = info.Raw, info.Stored, info.SHA256
	s.done = append(s.done, a)
	return nil
}
