package restore

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrUnsafePath: a tar entry would land outside its directory or is of a
// type a base backup never contains.
var ErrUnsafePath = errors.New("unsafe entry in backup archive")

// extractor unpacks one tar into dir. It only creates: every file is
// opened with O_EXCL and O_NOFOLLOW, so nothing that exists is
// overwritten and no symlink is followed.
type extractor struct {
	dir string
	// link returns the target for a symlink entry (the base archive's
	// pg_tblspc/<oid>), or an error for any other symlink.
	link  func(name string) (string, error)
	owner *Owner
	buf   []byte
}

// Owner is who the restored files belong to (the postgres user when
// restoring as root).
type Owner struct{ UID, GID int }

func (e *extractor) extract(r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		if err := e.entry(h, tr); err != nil {
			return err
		}
	}
}

func (e *extractor) entry(h *tar.Header, r io.Reader) error {
	name := filepath.Clean(filepath.FromSlash(h.Name))
	if !filepath.IsLocal(name) || strings.HasPrefix(name, "pg_tblspc"+string(filepath.Separator)) && strings.Count(name, string(filepath.Separator)) > 1 {
		return fmt.Errorf("%w: %q", ErrUnsafePath, h.Name)
	}
	path := filepath.Join(e.dir, name)
	switch h.Typeflag {
	case tar.TypeDir:
		if err := os.Mkdir(path, 0o700); err != nil && !(errors.Is(err, os.ErrExist) && isDir(path)) {
			return fmt.Errorf("restore %s: %w", h.Name, err)
		}
	case tar.TypeReg:
		if err := e.file(path, r); err != nil {
			return fmt.Errorf("restore %s: %w", h.Name, err)
		}
	case tar.TypeSymlink:
		target, err := e.link(filepath.ToSlash(name))
		if err != nil {
			return err
		}
		if err := os.Symlink(target, path); err != nil {
			return fmt.Errorf("restore %s: %w", h.Name, err)
		}
	default:
		return fmt.Errorf("%w: %q has tar type %q", ErrUnsafePath, h.Name, h.Typeflag)
	}
	return e.chown(path)
}

// isDir is true only for a real directory, not a symlink to one.
func isDir(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.IsDir()
}

func (e *extractor) file(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o600)
	if err != nil {
		return err
	}
	if e.buf == nil {
		e.buf = make([]byte, 1<<20)
	}
	_, err = io.CopyBuffer(f, r, e.buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (e *extractor) chown(path string) error {
	if e.owner == nil {
		return nil
	}
	if err := os.Lchown(path, e.owner.UID, e.owner.GID); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}
