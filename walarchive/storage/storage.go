package storage

import (
	"context"
	"errors"
	"io"
	"iter"
	"time"
)

// Sentinel errors. Implementations wrap them with the key and operation;
// callers test with errors.Is.
var (
	// ErrNotFound: the key holds no object. Only a missing object wraps it
	// (see the package doc for why a missing bucket must not).
	ErrNotFound = errors.New("object not found")
	// ErrExists: Create found an object under the key and left it alone.
	ErrExists = errors.New("object already exists")
	// ErrInvalidKey: the key or prefix breaks the rules of ValidateKey, or
	// the key collides with the directory part of another key.
	ErrInvalidKey = errors.New("invalid key")
)

// Info describes a stored object.
type Info struct {
	Key     string    // relative to the store, as passed to Put
	Size    int64     // bytes
	ModTime time.Time // when the object was last written, as the backend records it
	// ETag changes when the object is rewritten. It is not a content hash
	// that callers may compare across backends: S3 gives an MD5 for
	// single-part uploads and an MD5 of part MD5s for multipart ones, and
	// fsstore derives it from inode, size and modification time.
	ETag string
}

// Store is an object store for the WAL archive and base backups. See the
// package doc for the contract every method keeps.
type Store interface {
	// Put stores everything read from r under key, replacing any object
	// there. It reads r to EOF (or until ctx is done), streaming: the size
	// need not be known and the object is never held whole in memory.
	// Cancellation is noticed between reads of r; a Read that blocks
	// forever blocks Put.
	Put(ctx context.Context, key string, r io.Reader) error
	// Create is Put that fails with ErrExists, storing nothing, when key
	// already holds an object.
	Create(ctx context.Context, key string, r io.Reader) error
	// Get returns the object's bytes. The caller must Close the reader.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// GetRange returns length bytes starting at offset, clipped to the end
	// of the object; a negative length means "to the end". An offset at or
	// past the end yields an empty reader (not an error) for an existing
	// object. A negative offset is an error.
	GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// Stat describes the object under key.
	Stat(ctx context.Context, key string) (Info, error)
	// List yields the objects whose key starts with prefix, sorted by key.
	// An error ends the sequence (it is the last pair yielded). Objects
	// written or deleted while listing may or may not appear.
	List(ctx context.Context, prefix string) iter.Seq2[Info, error]
	// Delete removes the object under key. A missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// ReadAll reads the whole object under key. It is for small objects
// (history files, backup labels, catalogue entries) whose size the caller
// bounds by construction.
func ReadAll(ctx context.Context, s Store, key string) ([]byte, error) {
	rc, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
