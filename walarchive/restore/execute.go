package restore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/tenure-pg/tenure/walarchive/catalog"
	"github.com/tenure-pg/tenure/walarchive/codec"
	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/storage"
)

// Executor errors.
var (
	// ErrNotEmpty: the data directory (or a tablespace directory) exists
	// and is not empty; nothing was written.
	ErrNotEmpty = errors.New("restore target is not empty")
	// ErrChecksum: an archive's bytes differ from what the backup recorded.
	ErrChecksum = errors.New("backup archive checksum mismatch")
)

// IncompleteMarker is the file Execute keeps in the data directory while
// it writes it: a directory holding it is a restore cut short (a crash,
// a killed pod), only good for emptying.
const IncompleteMarker = "tenure-restore-incomplete"

// Options are how to carry out a Plan.
type Options struct {
	Store   storage.Store
	Archive layout.Archive
	Key     []byte // decryption key, nil for unencrypted backups
	DataDir string
	// Tablespaces maps a tablespace OID to the directory to restore it
	// into; by default its location on the source.
	Tablespaces map[uint32]string
	// RestoreCommand for recovery; default DefaultRestoreCommand.
	RestoreCommand string
	// Standby restores a standby instead: standby.signal and no recovery
	// settings at all, because the caller's configuration supplies
	// restore_command and primary_conninfo (the agent building a replica,
	// or a standby cluster's leader, from the archive). The target must
	// be Latest: a standby never stops replaying.
	Standby bool
	Owner   *Owner // nil: files belong to the current user
	// Parallel is how many chunks of ChunkSize each archive downloads at
	// once (default 4 and 16 MiB).
	Parallel  int
	ChunkSize int64
	// Progress, if set, is called with the total raw bytes restored so
	// far, from any goroutine.
	Progress func(done int64)
	Now      func() time.Time
	Log      hclog.Logger
}

func (o Options) withDefaults() Options {
	if o.RestoreCommand == "" {
		o.RestoreCommand = DefaultRestoreCommand
	}
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = 16 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = hclog.NewNullLogger()
	}
	return o
}

// Execute restores p into opts.DataDir, which must be missing or empty,
// and writes the recovery settings: the next start of postgres on the
// directory recovers to p.Target. It makes no decisions beyond refusing a
// non-empty directory before writing anything.
func Execute(ctx context.Context, p Plan, opts Options) error {
	opts = opts.withDefaults()
	if opts.Standby && p.Target.Kind != Latest {
		return fmt.Errorf("restore as standby: target %s: a standby replays to the latest WAL, give no target", p.Target)
	}
	dirs, err := destinations(p.Backup, opts)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if err := checkEmpty(d); err != nil {
			return err
		}
	}
	for _, d := range dirs {
		if err := makeDir(d, opts.Owner); err != nil {
			return err
		}
	}
	marker := filepath.Join(opts.DataDir, IncompleteMarker)
	if err := os.WriteFile(marker, []byte("restore in progress; the data directory is not usable\n"), 0o600); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	opts.Log.Info("restore starting", "backup", p.Backup.ID, "target", p.Target.String(), "data_dir", opts.DataDir)
	if err := fetchAll(ctx, p.Backup, dirs, opts); err != nil {
		return err
	}
	if p.Backup.Manifest != nil {
		if err := fetchManifest(ctx, p.Backup, opts); err != nil {
			return err
		}
	}
	if opts.Standby {
		if err := writeSignal(opts.DataDir, standbySignal, opts.Owner); err != nil {
			return err
		}
	} else {
		if err := writeRecovery(opts.DataDir, recoverySettings(p, opts.RestoreCommand, opts.Now()), opts.Owner); err != nil {
			return err
		}
		if p.End != nil {
			if err := writeEnd(opts.DataDir, *p.End, opts.Owner); err != nil {
				return err
			}
		}
	}
	if err := os.Remove(marker); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	opts.Log.Info("restore complete; start postgres to recover", "backup", p.Backup.ID, "raw_bytes", p.Backup.RawSize)
	return nil
}

// destinations maps each archive's name to the directory it unpacks into.
func destinations(b catalog.Meta, opts Options) (map[string]string, error) {
	if opts.DataDir == "" {
		return nil, errors.New("restore: no data directory given")
	}
	dirs := map[string]string{}
	for _, a := range b.Archives {
		if a.Tablespace == 0 {
			dirs[a.Name] = opts.DataDir
			continue
		}
		d := opts.Tablespaces[a.Tablespace]
		if d == "" {
			d = a.Location
		}
		if !filepath.IsAbs(d) {
			return nil, fmt.Errorf("restore: tablespace %d: directory %q is not absolute", a.Tablespace, d)
		}
		dirs[a.Name] = d
	}
	return dirs, nil
}

// checkEmpty accepts a missing or empty directory.
func checkEmpty(dir string) error {
	f, err := os.Open(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if err != nil && err != io.EOF {
		return fmt.Errorf("restore: read %s: %w", dir, err)
	}
	if len(names) > 0 {
		return fmt.Errorf("restore into %s: %w (it holds %s); restore only into an empty or new directory", dir, ErrNotEmpty, names[0])
	}
	return nil
}

// makeDir creates dir 0700 (PostgreSQL refuses a data directory others
// can read) or tightens an existing empty one.
func makeDir(dir string, owner *Owner) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if owner != nil {
		if err := os.Chown(dir, owner.UID, owner.GID); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	return nil
}

// fetchAll restores every archive concurrently.
func fetchAll(ctx context.Context, b catalog.Meta, dirs map[string]string, opts Options) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, len(b.Archives))
	for i, a := range b.Archives {
		wg.Go(func() {
			errs[i] = fetchArchive(ctx, b, a, dirs, opts, &done)
			if errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func fetchArchive(ctx context.Context, b catalog.Meta, a catalog.Archive, dirs map[string]string, opts Options, done *atomic.Int64) error {
	key := opts.Archive.Backup(b.ID, a.Name)
	rc, err := openObject(ctx, opts.Store, key, a.Stored, opts.ChunkSize, opts.Parallel)
	if err != nil {
		return fmt.Errorf("restore %s: %w", a.Name, err)
	}
	defer rc.Close()
	dec, err := codec.NewReader(rc, opts.Key)
	if err != nil {
		return fmt.Errorf("restore %s: %w", a.Name, err)
	}
	defer dec.Close()
	sum := sha256.New()
	counted := &progressReader{r: io.TeeReader(dec, sum), done: done, fn: opts.Progress}
	ex := &extractor{dir: dirs[a.Name], owner: opts.Owner, link: tablespaceLink(b, dirs)}
	if err := ex.extract(counted); err != nil {
		return fmt.Errorf("restore %s: %w", a.Name, err)
	}
	// Read to the end: tar stops at its end marker, the codec checks its
	// trailer only at EOF, and the checksum covers every byte.
	if _, err := io.Copy(io.Discard, counted); err != nil {
		return fmt.Errorf("restore %s: %w", a.Name, err)
	}
	return checkSum(a, sum, counted.n)
}

func checkSum(a catalog.Archive, sum hash.Hash, n int64) error {
	if got := hex.EncodeToString(sum.Sum(nil)); got != a.SHA256 || n != a.Raw {
		return fmt.Errorf("restore %s: %w: %d bytes with sha256 %s, backup recorded %d bytes with %s", a.Name, ErrChecksum, n, got, a.Raw, a.SHA256)
	}
	return nil
}

// tablespaceLink allows exactly the symlinks pg_tblspc/<oid> of the
// backup's tablespaces, pointing where their archives are restored.
func tablespaceLink(b catalog.Meta, dirs map[string]string) func(string) (string, error) {
	return func(name string) (string, error) {
		for _, a := range b.Archives {
			if a.Tablespace != 0 && name == "pg_tblspc/"+strconv.FormatUint(uint64(a.Tablespace), 10) {
				return dirs[a.Name], nil
			}
		}
		return "", fmt.Errorf("%w: symlink %q is not a tablespace of the backup", ErrUnsafePath, name)
	}
}

// fetchManifest writes backup_manifest into the data directory, as
// pg_basebackup does, so pg_verifybackup can check the restored files.
func fetchManifest(ctx context.Context, b catalog.Meta, opts Options) error {
	rc, err := opts.Store.Get(ctx, opts.Archive.Backup(b.ID, b.Manifest.Name))
	if err != nil {
		return fmt.Errorf("restore manifest: %w", err)
	}
	defer rc.Close()
	dec, err := codec.NewReader(rc, opts.Key)
	if err != nil {
		return fmt.Errorf("restore manifest: %w", err)
	}
	defer dec.Close()
	sum := sha256.New()
	ex := &extractor{dir: opts.DataDir, owner: opts.Owner}
	path := filepath.Join(opts.DataDir, "backup_manifest")
	cr := &progressReader{r: io.TeeReader(dec, sum), done: new(atomic.Int64)}
	if err := ex.file(path, cr); err != nil {
		return fmt.Errorf("restore manifest: %w", err)
	}
	if err := checkSum(*b.Manifest, sum, cr.n); err != nil {
		return err
	}
	return ex.chown(path)
}

type progressReader struct {
	r    io.Reader
	n    int64
	done *atomic.Int64
	fn   func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	total := p.done.Add(int64(n))
	if p.fn != nil && n > 0 {
		p.fn(total)
	}
	return n, err
}
