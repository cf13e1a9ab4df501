package fsstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"slices"
	"strings"
	"syscall"

	"github.com/tenure-pg/tenure/walarchive/storage"
)

// List implements storage.Store. It starts in the deepest directory the
// prefix names ("wal/" for "wal/0000"), so listing one timeline's segments
// does not walk the base backups.
func (s *Store) List(ctx context.Context, prefix string) iter.Seq2[storage.Info, error] {
	return func(yield func(storage.Info, error) bool) {
		if err := storage.ValidatePrefix(prefix); err != nil {
			yield(storage.Info{}, fmt.Errorf("list: %w", err))
			return
		}
		// The root itself must exist: a vanished mount is an error, not an
		// empty archive.
		if _, err := os.Stat(s.root); err != nil {
			yield(storage.Info{}, fmt.Errorf("list %q: %w", prefix, err))
			return
		}
		start := prefix[:strings.LastIndexByte(prefix, '/')+1]
		w := walker{s: s, ctx: ctx, prefix: prefix, yield: yield}
		if err := w.walk(start); err != nil && !errors.Is(err, errStop) {
			yield(storage.Info{}, fmt.Errorf("list %q: %w", prefix, err))
		}
	}
}

// errStop ends a walk whose consumer stopped iterating.
var errStop = errors.New("stop")

type walker struct {
	s      *Store
	ctx    context.Context
	prefix string
	yield  func(storage.Info, error) bool
}

// entry is a directory entry with the key it sorts by: a directory sorts
// as its key plus '/', which is where the keys below it sort.
type entry struct {
	key   string
	isDir bool
}

// walk yields the matching objects below dirKey ("" or ending in '/').
func (w *walker) walk(dirKey string) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	dirents, err := os.ReadDir(w.s.path(dirKey))
	if dirKey != "" && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
		return nil // deleted meanwhile, or the prefix names a file's "directory"
	}
	if err != nil {
		return err
	}
	entries := make([]entry, 0, len(dirents))
	for _, d := range dirents {
		name := d.Name()
		if name[0] == '.' { // temporary files, NFS silly renames
			continue
		}
		e := entry{key: dirKey + name, isDir: d.IsDir()}
		if e.isDir {
			e.key += "/"
		} else if !d.Type().IsRegular() {
			continue // symlinks, sockets: never written by a Store
		}
		if strings.HasPrefix(e.key, w.prefix) || (e.isDir && strings.HasPrefix(w.prefix, e.key)) {
			entries = append(entries, e)
		}
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	for _, e := range entries {
		if err := w.visit(e); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) visit(e entry) error {
	if e.isDir {
		return w.walk(e.key)
	}
	st, err := os.Lstat(w.s.path(e.key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // deleted since ReadDir
	}
	if err != nil {
		return err
	}
	if !w.yield(info(e.key, st), nil) {
		return errStop
	}
	return nil
}
