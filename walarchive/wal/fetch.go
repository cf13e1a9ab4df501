package wal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tenure-pg/tenure/walarchive/codec"
	"github.com/tenure-pg/tenure/walarchive/storage"
	"github.com/tenure-pg/tenure/walarchive/walname"
)

// Fetch restores the archived file name (restore_command's %f) to dest
// (%p). dest appears only complete and verified: the bytes go to a
// temporary file beside it, which is fsynced and renamed over dest once
// the codec has checked the trailer. A missing object is an error
// wrapping ErrNotArchived; a corrupt one wraps codec.ErrChecksum; neither
// leaves anything at dest.
func (a *Archiver) Fetch(ctx context.Context, name, dest string) (err error) {
	defer func() { a.fetched(err) }()
	file, err := walname.Parse(name, a.cfg.SegmentSize)
	if err != nil {
		return errorf("fetch", name, err)
	}
	ctx, release, err := a.acquire(ctx)
	if err != nil {
		return errorf("fetch", name, err)
	}
	defer release()
	rc, err := a.store.Get(ctx, a.key(name))
	if errors.Is(err, storage.ErrNotFound) {
		return errorf("fetch", name, ErrNotArchived)
	}
	if err != nil {
		return errorf("fetch", name, err)
	}
	defer rc.Close()
	dec, err := codec.NewReader(rc, a.opts.Key)
	if err != nil {
		return errorf("fetch", name, err)
	}
	defer dec.Close()
	want := int64(-1)
	if file.Kind == walname.KindSegment || file.Kind == walname.KindPartial {
		want = int64(a.cfg.SegmentSize)
	}
	if err := writeAtomic(dest, dec, 0o600, want); err != nil {
		return errorf("fetch", name, err)
	}
	return nil
}

// writeAtomic copies r to a temporary file beside path and, once r ended
// cleanly with want bytes (any number if want < 0), gives it mode, syncs
// it, renames it over path and syncs the directory: readers see the old
// file or the whole new one, and a crash leaves no partial file at path.
func writeAtomic(path string, r io.Reader, mode os.FileMode, want int64) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tenure-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, r)
	if err != nil {
		return err
	}
	if want >= 0 && n != want {
		return fmt.Errorf("archived segment is %d bytes, want the segment size %d (check segmentSize)", n, want)
	}
	if err = tmp.Chmod(mode); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}
