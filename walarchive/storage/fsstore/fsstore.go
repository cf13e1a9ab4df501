package fsstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/tenure-pg/tenure/walarchive/storage"
)

// Store keeps objects as files under a root directory. It is safe for
// concurrent use, also by several processes sharing the root over NFS.
type Store struct {
	root string
}

var _ storage.Store = (*Store)(nil)

// File modes. Group read lets a backup operator's group inspect the archive
// without write access.
const (
	fileMode = 0o640
	dirMode  = 0o750
)

// copyBufSize: 256 KiB makes a 16 MiB WAL segment 64 writes instead of 512
// with io.Copy's 32 KiB.
const copyBufSize = 256 << 10

// New returns a Store rooted at root, which must be an existing directory.
func New(root string) (*Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("fsstore root %q: %w", root, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("fsstore root: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("fsstore root %s: not a directory", abs)
	}
	return &Store{root: abs}, nil
}

// Root is the directory the Store keeps its objects in.
func (s *Store) Root() string { return s.root }

func (s *Store) path(key string) string { return filepath.Join(s.root, filepath.FromSlash(key)) }

// Put implements storage.Store: temporary file, fsync, rename, fsync of
// the directory.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) error {
	if err := s.write(ctx, key, r, s.rename); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// Create implements storage.Store atomically with link(2) (see the package
// doc). An existing key is refused before r is read.
func (s *Store) Create(ctx context.Context, key string, r io.Reader) error {
	if err := storage.ValidateKey(key); err == nil {
		if _, err := os.Lstat(s.path(key)); err == nil {
			return fmt.Errorf("create %s: %w", key, s.existsError(key))
		}
	}
	if err := s.write(ctx, key, r, s.link); err != nil {
		return fmt.Errorf("create %s: %w", key, err)
	}
	return nil
}

// write copies r to a temporary file beside key and hands it to commit,
// removing it unless commit consumed it.
func (s *Store) write(ctx context.Context, key string, r io.Reader, commit func(tmp, key string) error) error {
	if err := storage.ValidateKey(key); err != nil {
		return err
	}
	f, err := s.createTemp(key)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }() // after a rename: ENOENT, ignored
	// Hiding ReadFrom makes CopyBuffer use our buffer; os.File's own falls
	// back to 32 KiB copies for a reader that is not a file.
	_, err = io.CopyBuffer(struct{ io.Writer }{f}, storage.ContextReader(ctx, r), make([]byte, copyBufSize))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return err
	}
	if err := commit(tmp, key); err != nil {
		return err
	}
	return syncDir(filepath.Dir(s.path(key)))
}

// createTemp makes key's directory and a temporary file in it. A Delete
// pruning the directory between the two makes the create fail with
// ENOENT; it is retried, and cannot recur once the file exists.
func (s *Store) createTemp(key string) (*os.File, error) {
	dir := filepath.Dir(s.path(key))
	for attempt := 0; ; attempt++ {
		if err := s.mkdirAll(dir); err != nil {
			return nil, err
		}
		f, err := os.CreateTemp(dir, ".tmp-")
		if errors.Is(err, fs.ErrNotExist) && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := f.Chmod(fileMode); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, err
		}
		return f, nil
	}
}

func (s *Store) rename(tmp, key string) error {
	err := os.Rename(tmp, s.path(key))
	if isDirConflict(err) {
		return s.conflict(key)
	}
	return err
}

// link publishes tmp under key unless key exists. The temporary name is
// removed by write's deferred cleanup.
func (s *Store) link(tmp, key string) error {
	dst := s.path(key)
	err := os.Link(tmp, dst)
	if linkUnsupported(err) {
		err = unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, dst, unix.RENAME_NOREPLACE)
		if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSYS) {
			return fmt.Errorf("filesystem supports neither hard links nor RENAME_NOREPLACE, so Create cannot be atomic: %w", err)
		}
	}
	if errors.Is(err, fs.ErrExist) {
		return s.existsError(key)
	}
	return err
}

// existsError is ErrExists for a file, a key conflict for a directory.
func (s *Store) existsError(key string) error {
	if st, err := os.Lstat(s.path(key)); err == nil && st.IsDir() {
		return s.conflict(key)
	}
	return storage.ErrExists
}

func (s *Store) conflict(key string) error {
	return fmt.Errorf("%w: %q is a directory of other objects", storage.ErrInvalidKey, key)
}

// linkUnsupported: EPERM is Linux's answer on filesystems without hard
// links (vfat, some FUSE), EOPNOTSUPP and EMLINK are others'.
func linkUnsupported(err error) bool {
	return errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.EMLINK)
}

// isDirConflict reports a rename over a directory.
func isDirConflict(err error) bool {
	return errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST)
}
