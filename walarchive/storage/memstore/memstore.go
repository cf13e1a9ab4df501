package memstore

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tenure-pg/tenure/walarchive/storage"
)

// Store is an in-memory storage.Store, safe for concurrent use.
type Store struct {
	now func() time.Time

	mu      sync.Mutex
	objects map[string]object
}

type object struct {
	data    []byte
	modTime time.Time
	etag    string
}

var _ storage.Store = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithClock makes the Store stamp ModTime with now instead of time.Now, so
// retention tests control object ages.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// New returns an empty Store.
func New(opts ...Option) *Store {
	s := &Store{now: time.Now, objects: map[string]object{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Put implements storage.Store.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) error {
	return s.write(ctx, "put", key, r, false)
}

// Create implements storage.Store. It is atomic: the existence check and
// the store happen under one lock.
func (s *Store) Create(ctx context.Context, key string, r io.Reader) error {
	return s.write(ctx, "create", key, r, true)
}

func (s *Store) write(ctx context.Context, op, key string, r io.Reader, exclusive bool) error {
	if err := storage.ValidateKey(key); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	data, err := io.ReadAll(storage.ContextReader(ctx, r))
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, key, err)
	}
	sum := md5.Sum(data)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s %s: %w", op, key, err)
	}
	if _, ok := s.objects[key]; ok && exclusive {
		return fmt.Errorf("%s %s: %w", op, key, storage.ErrExists)
	}
	if err := s.checkTree(key); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	s.objects[key] = object{data: data, modTime: s.now(), etag: hex.EncodeToString(sum[:])}
	return nil
}

// checkTree refuses key when one of its parent directories is an object or
// when it is the parent directory of an object.
func (s *Store) checkTree(key string) error {
	for i := range len(key) {
		if key[i] == '/' {
			if _, ok := s.objects[key[:i]]; ok {
				return fmt.Errorf("key %q: %w: %q is an object, not a directory", key, storage.ErrInvalidKey, key[:i])
			}
		}
	}
	for k := range s.objects {
		if strings.HasPrefix(k, key+"/") {
			return fmt.Errorf("key %q: %w: it is the directory of object %q", key, storage.ErrInvalidKey, k)
		}
	}
	return nil
}

// Get implements storage.Store.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.GetRange(ctx, key, 0, -1)
}

// GetRange implements storage.Store.
func (s *Store) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if offset < 0 {
		return nil, fmt.Errorf("get %s: negative offset %d", key, offset)
	}
	o, err := s.lookup(ctx, "get", key)
	if err != nil {
		return nil, err
	}
	size := int64(len(o.data))
	start := min(offset, size)
	end := size
	if length >= 0 {
		end = min(size, start+length)
	}
	return io.NopCloser(bytes.NewReader(o.data[start:end])), nil
}

// Stat implements storage.Store.
func (s *Store) Stat(ctx context.Context, key string) (storage.Info, error) {
	o, err := s.lookup(ctx, "stat", key)
	if err != nil {
		return storage.Info{}, err
	}
	return o.info(key), nil
}

func (s *Store) lookup(ctx context.Context, op, key string) (object, error) {
	if err := storage.ValidateKey(key); err != nil {
		return object{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return object{}, fmt.Errorf("%s %s: %w", op, key, err)
	}
	s.mu.Lock()
	o, ok := s.objects[key]
	s.mu.Unlock()
	if !ok {
		return object{}, fmt.Errorf("%s %s: %w", op, key, storage.ErrNotFound)
	}
	return o, nil
}

func (o object) info(key string) storage.Info {
	return storage.Info{Key: key, Size: int64(len(o.data)), ModTime: o.modTime, ETag: o.etag}
}

// List implements storage.Store. It lists a snapshot taken at the first
// step of the iteration.
func (s *Store) List(ctx context.Context, prefix string) iter.Seq2[storage.Info, error] {
	return func(yield func(storage.Info, error) bool) {
		if err := storage.ValidatePrefix(prefix); err != nil {
			yield(storage.Info{}, fmt.Errorf("list: %w", err))
			return
		}
		s.mu.Lock()
		var infos []storage.Info
		for k, o := range s.objects {
			if strings.HasPrefix(k, prefix) {
				infos = append(infos, o.info(k))
			}
		}
		s.mu.Unlock()
		slices.SortFunc(infos, func(a, b storage.Info) int { return strings.Compare(a.Key, b.Key) })
		for _, info := range infos {
			if err := ctx.Err(); err != nil {
				yield(storage.Info{}, fmt.Errorf("list %q: %w", prefix, err))
				return
			}
			if !yield(info, nil) {
				return
			}
		}
	}
}

// Delete implements storage.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := storage.ValidateKey(key); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	s.mu.Lock()
	delete(s.objects, key)
	s.mu.Unlock()
	return nil
}
