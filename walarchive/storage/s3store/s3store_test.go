package s3store_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/walarchive/storage"
	"github.com/tenure-pg/tenure/walarchive/storage/s3store"
	"github.com/tenure-pg/tenure/walarchive/storage/storetest"
)

// config is a path-style store on srv's bucket with the minimum part size,
// so the suite's 20 MiB objects are four-part uploads.
func config(srv *testenv.S3, bucket string) s3store.Config {
	return s3store.Config{
		Endpoint:        srv.Endpoint(),
		Region:          srv.Region(),
		Bucket:          bucket,
		PathStyle:       true,
		Credentials:     s3store.CredentialsStatic,
		AccessKeyID:     srv.AccessKey(),
		SecretAccessKey: srv.SecretKey(),
		PartSize:        s3store.MinPartSize,
		Concurrency:     3,
	}.Default()
}

func newStore(t *testing.T, cfg s3store.Config) *s3store.Store {
	t.Helper()
	s, err := s3store.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConformance runs the suite against versitygw with conditional
// writes (If-None-Match: *), including the concurrent Create race.
func TestConformance(t *testing.T) {
	srv := testenv.StartS3(t)
	storetest.Run(t, func(t *testing.T) storage.Store {
		return newStore(t, config(srv, srv.NewBucket(t)))
	})
}

// TestConformanceHeadThenPut runs the suite with Create as HEAD then PUT,
// which is not atomic, so without the race.
func TestConformanceHeadThenPut(t *testing.T) {
	srv := testenv.StartS3(t)
	storetest.Run(t, func(t *testing.T) storage.Store {
		cfg := config(srv, srv.NewBucket(t))
		cfg.CreateMode = s3store.CreateHeadThenPut
		return newStore(t, cfg)
	}, storetest.NonAtomicCreate())
}

// TestConformanceUnderPrefix runs the suite on stores that share one
// bucket under neighbouring prefixes.
func TestConformanceUnderPrefix(t *testing.T) {
	srv := testenv.StartS3(t)
	bucket := srv.NewBucket(t)
	var n atomic.Int32
	storetest.Run(t, func(t *testing.T) storage.Store {
		cfg := config(srv, bucket)
		cfg.Prefix = "clusters/c" + strings.Repeat("1", int(n.Add(1))) // c1, c11, c111: prefixes of each other
		return newStore(t, cfg)
	})
}

func TestPrefixIsolation(t *testing.T) {
	srv := testenv.StartS3(t)
	ctx := t.Context()
	short, long := config(srv, srv.Bucket()), config(srv, srv.Bucket())
	short.Prefix, long.Prefix = "a/b", "a/bc"
	a, b := newStore(t, short), newStore(t, long)
	if err := b.Put(ctx, "wal/1", strings.NewReader("long")); err != nil {
		t.Fatal(err)
	}
	for info, err := range a.List(ctx, "") {
		t.Errorf("store under a/b lists %+v, %v from the store under a/bc", info, err)
	}
	if _, err := a.Stat(ctx, "wal/1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("store under a/b: Stat(wal/1) = %v, want ErrNotFound", err)
	}
}

// TestMissingBucket: a missing bucket is never reported as a missing
// object, not even by HEAD (which has no error body).
func TestMissingBucket(t *testing.T) {
	srv := testenv.StartS3(t)
	s := newStore(t, config(srv, "no-such-bucket-here"))
	ctx := t.Context()
	if err := s.Check(ctx); !errors.Is(err, s3store.ErrNoBucket) {
		t.Errorf("Check = %v, want ErrNoBucket", err)
	}
	_, statErr := s.Stat(ctx, "wal/1")
	_, getErr := s.Get(ctx, "wal/1")
	for op, err := range map[string]error{"Stat": statErr, "Get": getErr} {
		if !errors.Is(err, s3store.ErrNoBucket) || errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s in a missing bucket = %v, want ErrNoBucket and not ErrNotFound", op, err)
		}
	}
	if err := newStore(t, config(srv, srv.Bucket())).Check(ctx); err != nil {
		t.Errorf("Check of an existing bucket: %v", err)
	}
}

// TestWrongKeys: bad credentials are an error of their own, not a missing
// object.
func TestWrongKeys(t *testing.T) {
	srv := testenv.StartS3(t)
	cfg := config(srv, srv.Bucket())
	cfg.SecretAccessKey = "wrong-" + cfg.SecretAccessKey
	s := newStore(t, cfg)
	ctx := t.Context()
	if err := s.Check(ctx); err == nil {
		t.Error("Check with a wrong secret succeeded")
	}
	if _, err := s.Stat(ctx, "wal/1"); err == nil || errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat with a wrong secret = %v, want an error that is not ErrNotFound", err)
	}
}

// roundTrip writes and reads one object through s.
func roundTrip(t *testing.T, s storage.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := s.Put(ctx, "probe", strings.NewReader("hello")); err != nil {
		t.Fatalf("put: %v", err)
	}
	rc, err := s.Get(ctx, "probe")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	defer rc.Close()
	if b, err := io.ReadAll(rc); err != nil || string(b) != "hello" {
		t.Fatalf("get = %q, %v", b, err)
	}
}
