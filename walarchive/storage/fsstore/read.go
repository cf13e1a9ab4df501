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

	"github.com/tenure-pg/tenure/walarchive/storage"
)

// Get implements storage.Store.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := s.open(ctx, key, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return rc, nil
}

// GetRange implements storage.Store. The reader keeps reading the file it
// opened even if a Put replaces the key meanwhile.
func (s *Store) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if offset < 0 {
		return nil, fmt.Errorf("get %s: negative offset %d", key, offset)
	}
	rc, err := s.open(ctx, key, offset, length)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return rc, nil
}

type section struct {
	*io.SectionReader
	f *os.File
}

func (s section) Close() error { return s.f.Close() }

func (s *Store) open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := storage.ValidateKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(key))
	if err != nil {
		return nil, notFound(err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = storage.ErrNotFound
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	start := min(offset, st.Size())
	n := st.Size() - start
	if length >= 0 {
		n = min(n, length)
	}
	return section{io.NewSectionReader(f, start, n), f}, nil
}

// Stat implements storage.Store.
func (s *Store) Stat(ctx context.Context, key string) (storage.Info, error) {
	if err := storage.ValidateKey(key); err != nil {
		return storage.Info{}, fmt.Errorf("stat: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return storage.Info{}, fmt.Errorf("stat %s: %w", key, err)
	}
	st, err := os.Stat(s.path(key))
	if err == nil && !st.Mode().IsRegular() {
		err = storage.ErrNotFound
	}
	if err != nil {
		return storage.Info{}, fmt.Errorf("stat %s: %w", key, notFound(err))
	}
	return info(key, st), nil
}

// info describes a file. The ETag changes whenever Put or Create publish a
// new file under the key (a new inode) and whenever the file is modified in
// place (size, mtime), which no Store method does.
func info(key string, st fs.FileInfo) storage.Info {
	var ino uint64
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		ino = sys.Ino
	}
	return storage.Info{
		Key:     key,
		Size:    st.Size(),
		ModTime: st.ModTime(),
		ETag:    fmt.Sprintf("%x-%x-%x", ino, st.Size(), st.ModTime().UnixNano()),
	}
}

// notFound maps "no such file" and "a parent is a file" to ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%w (%w)", storage.ErrNotFound, err)
	}
	return err
}

// Delete implements storage.Store and then removes the directories the
// object leaves empty.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := storage.ValidateKey(key); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	path := s.path(key)
	// unlink(2), unlike os.Remove, never removes a directory: a key that is
	// only the directory of other objects is not an object.
	err := syscall.Unlink(path)
	switch {
	case errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR):
		return nil
	case errors.Is(err, syscall.EPERM):
		if st, serr := os.Lstat(path); serr == nil && st.IsDir() {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	dir := filepath.Dir(path)
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if err := s.pruneDirs(dir); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}
