package s3store

import (
	"context"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/tenure-pg/tenure/walarchive/storage"
)

// Get implements storage.Store.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.GetRange(ctx, key, 0, -1)
}

// GetRange implements storage.Store with an HTTP Range request. S3 answers
// a range starting at or past the end with 416; that becomes an empty
// reader once a HEAD shows the object exists.
func (s *Store) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := storage.ValidateKey(key); err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	if offset < 0 {
		return nil, fmt.Errorf("get %s: negative offset %d", key, offset)
	}
	if length == 0 {
		return s.empty(ctx, key)
	}
	var opts minio.GetObjectOptions
	switch {
	case offset == 0 && length < 0:
	case length < 0:
		_ = opts.SetRange(offset, 0) // bytes=offset-
	default:
		_ = opts.SetRange(offset, offset+length-1)
	}
	body, _, _, err := s.core.GetObject(ctx, s.cfg.Bucket, s.object(key), opts)
	if minio.ToErrorResponse(err).Code == minio.InvalidRange {
		return s.empty(ctx, key)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, mapError(err))
	}
	s.bucketSeen.Store(true)
	return body, nil
}

// empty returns an empty reader if key exists.
func (s *Store) empty(ctx context.Context, key string) (io.ReadCloser, error) {
	if _, err := s.Stat(ctx, key); err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	return io.NopCloser(strings.NewReader("")), nil
}

// Stat implements storage.Store with HEAD.
func (s *Store) Stat(ctx context.Context, key string) (storage.Info, error) {
	if err := storage.ValidateKey(key); err != nil {
		return storage.Info{}, fmt.Errorf("stat: %w", err)
	}
	oi, err := s.client.StatObject(ctx, s.cfg.Bucket, s.object(key), minio.StatObjectOptions{})
	if err != nil {
		return storage.Info{}, fmt.Errorf("stat %s: %w", key, s.notFound(ctx, err))
	}
	s.bucketSeen.Store(true)
	return storage.Info{Key: key, Size: oi.Size, ModTime: oi.LastModified, ETag: oi.ETag}, nil
}

// List implements storage.Store with ListObjectsV2, 1000 keys a page. S3
// returns keys in UTF-8 byte order, which is Go's string order. Objects
// whose names are not valid keys, such as the "folder/" markers that web
// consoles create, are skipped.
func (s *Store) List(ctx context.Context, prefix string) iter.Seq2[storage.Info, error] {
	return func(yield func(storage.Info, error) bool) {
		if err := storage.ValidatePrefix(prefix); err != nil {
			yield(storage.Info{}, fmt.Errorf("list: %w", err))
			return
		}
		// Cancelling stops the client's listing goroutine when the
		// consumer stops early.
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		opts := minio.ListObjectsOptions{Prefix: s.object(prefix), Recursive: true}
		for oi := range s.client.ListObjectsIter(ctx, s.cfg.Bucket, opts) {
			if oi.Err != nil {
				yield(storage.Info{}, fmt.Errorf("list %q: %w", prefix, mapError(oi.Err)))
				return
			}
			key := strings.TrimPrefix(oi.Key, s.prefix)
			if storage.ValidateKey(key) != nil {
				continue
			}
			if !yield(storage.Info{Key: key, Size: oi.Size, ModTime: oi.LastModified, ETag: oi.ETag}, nil) {
				return
			}
		}
		if err := ctx.Err(); err != nil {
			yield(storage.Info{}, fmt.Errorf("list %q: %w", prefix, err))
		}
	}
}

// Delete implements storage.Store. S3 answers 204 for a missing key.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := storage.ValidateKey(key); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	err := s.client.RemoveObject(ctx, s.cfg.Bucket, s.object(key), minio.RemoveObjectOptions{})
	if err != nil && minio.ToErrorResponse(err).Code != minio.NoSuchKey {
		return fmt.Errorf("delete %s: %w", key, mapError(err))
	}
	return nil
}
