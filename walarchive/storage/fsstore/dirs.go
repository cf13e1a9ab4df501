package fsstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/tenure-pg/tenure/walarchive/storage"
)

// mkdirAll creates dir and its missing parents below the root, fsyncing
// each new directory's parent so the new entry is durable. A path
// component that is a file is a key conflict.
func (s *Store) mkdirAll(dir string) error {
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return nil
	}
	rel, err := filepath.Rel(s.root, dir)
	if err != nil {
		return err
	}
	path := s.root
	for part := range strings.SplitSeq(rel, string(filepath.Separator)) {
		path = filepath.Join(path, part)
		err := os.Mkdir(path, dirMode)
		switch {
		case err == nil:
			if err := syncDir(filepath.Dir(path)); err != nil {
				return err
			}
		case errors.Is(err, fs.ErrExist):
			if st, err := os.Stat(path); err == nil && !st.IsDir() {
				rel, _ := filepath.Rel(s.root, path)
				return fmt.Errorf("%w: %q is an object, not a directory", storage.ErrInvalidKey, filepath.ToSlash(rel))
			}
		case errors.Is(err, syscall.ENOTDIR):
			return fmt.Errorf("%w: a parent of %q is an object, not a directory", storage.ErrInvalidKey, rel)
		default:
			return err
		}
	}
	return nil
}

// pruneDirs removes dir and then its parents while they are empty, up to
// but not including the root. A concurrent Put that needs one of them
// again recreates it (see createTemp).
func (s *Store) pruneDirs(dir string) error {
	for dir != s.root && len(dir) > len(s.root) {
		err := syscall.Rmdir(dir)
		if errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) || errors.Is(err, syscall.ENOENT) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("remove empty directory %s: %w", dir, err)
		}
		dir = filepath.Dir(dir)
		if err := syncDir(dir); err != nil {
			return err
		}
	}
	return nil
}

// syncDir fsyncs a directory so the entries created, renamed or removed in
// it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}
