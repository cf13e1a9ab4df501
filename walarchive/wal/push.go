package wal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/tenure-pg/tenure/walarchive/codec"
	"github.com/tenure-pg/tenure/walarchive/storage"
	"github.com/tenure-pg/tenure/walarchive/walname"
)

// Push archives the file at path (a segment, .partial, .history or
// .backup file in pg_wal; archive_command's %p). It returns nil only once
// the archive durably holds exactly these bytes under the file's name:
// either this call stored them, or an earlier one did (a retry after a
// lost reply). It never replaces an archived object: different bytes
// under the name end in an error wrapping ErrConflict, with these bytes
// kept under a conflict key.
func (a *Archiver) Push(ctx context.Context, path string) (err error) {
	name := filepath.Base(path)
	var plain, stored int64
	defer func() { a.pushed(name, plain, stored, err) }()
	file, err := walname.Parse(name, a.cfg.SegmentSize)
	if err != nil {
		return errorf("push", name, err)
	}
	if plain, err = a.checkSize(path, file); err != nil {
		return errorf("push", name, err)
	}
	ctx, release, err := a.acquire(ctx)
	if err != nil {
		return errorf("push", name, err)
	}
	defer release()
	began := a.now()
	key := a.key(name)
	stored, err = a.upload(ctx, key, path)
	if errors.Is(err, storage.ErrExists) {
		stored = 0
		return a.resolveExisting(ctx, name, key, path)
	}
	if err != nil {
		return errorf("push", name, err)
	}
	a.log.Debug("archived", "file", name, "bytes", plain, "stored", stored, "took", a.now().Sub(began).Round(time.Millisecond))
	return nil
}

// checkSize refuses a segment that is not exactly one segment long: a
// short one is a file still being written or a wrong SegmentSize, and
// archiving it would put a hole in the WAL that restore finds too late.
func (a *Archiver) checkSize(path string, f walname.File) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	if !st.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file", path)
	}
	if (f.Kind == walname.KindSegment || f.Kind == walname.KindPartial) && uint64(st.Size()) != uint64(a.cfg.SegmentSize) {
		return 0, fmt.Errorf("%s is %d bytes, want the segment size %d (check segmentSize)", path, st.Size(), uint64(a.cfg.SegmentSize))
	}
	return st.Size(), nil
}

// upload encodes the file at path into a new object under key and
// returns the object's size. It fails with storage.ErrExists, storing
// nothing, when key holds an object.
func (a *Archiver) upload(ctx context.Context, key, path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	pr, pw := io.Pipe()
	counted := &countingReader{r: pr}
	encoded := make(chan error, 1)
	go func() {
		encoded <- a.encode(pw, f)
	}()
	err = a.store.Create(ctx, key, counted)
	// Unblock the encoder if Create stopped reading early (an error, or
	// ErrExists found before the upload).
	_ = pr.CloseWithError(errUploadEnded)
	if encErr := <-encoded; encErr != nil && !errors.Is(encErr, errUploadEnded) && err != nil {
		// The store's error is then a consequence; report the cause.
		return 0, fmt.Errorf("read %s: %w", path, encErr)
	}
	return counted.n, err
}

var errUploadEnded = errors.New("upload ended")

// encode writes the encoded file to pw and closes pw with the outcome.
func (a *Archiver) encode(pw *io.PipeWriter, src io.Reader) error {
	w, err := codec.NewWriter(pw, a.opts)
	if err == nil {
		if _, err = io.Copy(w, src); err == nil {
			err = w.Close()
		}
	}
	_ = pw.CloseWithError(err) // nil: EOF for the reader
	return err
}

// resolveExisting decides a Create that found an object: identical
// content is success, anything else a conflict that keeps both copies.
func (a *Archiver) resolveExisting(ctx context.Context, name, key, path string) error {
	same, why, err := a.sameAsArchived(ctx, key, path)
	if err != nil {
		return errorf("push", name, fmt.Errorf("compare with the archived copy: %w", err))
	}
	if same {
		a.log.Info("already archived with identical content", "file", name)
		return nil
	}
	sum, err := fileSHA256(path)
	if err != nil {
		return errorf("push", name, err)
	}
	conflictKey := key + ".conflict-" + sum[:16]
	if _, err := a.upload(ctx, conflictKey, path); err != nil && !errors.Is(err, storage.ErrExists) {
		return errorf("push", name, fmt.Errorf("%w (%s) under %s, and storing this file under %s failed: %w", ErrConflict, why, key, conflictKey, err))
	}
	a.log.Error("archive conflict: kept the archived object, stored this file beside it",
		"file", name, "archived", key, "this", conflictKey, "reason", why)
	return errorf("push", name, fmt.Errorf("%w (%s): archived copy kept at %s, this file stored at %s", ErrConflict, why, key, conflictKey))
}

// sameAsArchived streams the archived object and the file side by side.
// An archived object that cannot be decoded (corrupt, another key) is
// "different", with the reason; an outage is an error.
func (a *Archiver) sameAsArchived(ctx context.Context, key, path string) (bool, string, error) {
	rc, err := a.store.Get(ctx, key)
	if err != nil {
		return false, "", err
	}
	defer rc.Close()
	dec, err := codec.NewReader(rc, a.opts.Key)
	if err != nil {
		return undecodable(err)
	}
	defer dec.Close()
	f, err := os.Open(path)
	if err != nil {
		return false, "", err
	}
	defer f.Close()
	same, err := equalStreams(dec, f)
	if err != nil {
		return undecodable(err)
	}
	if !same {
		return false, "content differs", nil
	}
	return true, "", nil
}

func undecodable(err error) (bool, string, error) {
	if codec.IsInvalid(err) {
		return false, "archived copy unreadable: " + err.Error(), nil
	}
	return false, "", err
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
