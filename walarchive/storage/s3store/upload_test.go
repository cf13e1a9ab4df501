package s3store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/walarchive/storage/s3store"
)

// TestUploadShape: up to PartSize bytes is one PUT (a plain MD5 ETag), more
// is a multipart upload of PartSize parts (ETag suffix "-<parts>").
func TestUploadShape(t *testing.T) {
	srv := testenv.StartS3(t)
	s := newStore(t, config(srv, srv.Bucket()))
	const part = s3store.MinPartSize
	for _, tc := range []struct {
		size   int
		suffix string
	}{{0, ""}, {part - 1, ""}, {part, ""}, {part + 1, "-2"}, {3 * part, "-3"}} {
		if err := s.Put(t.Context(), "shape", struct{ io.Reader }{bytes.NewReader(make([]byte, tc.size))}); err != nil {
			t.Fatal(err)
		}
		info, err := s.Stat(t.Context(), "shape")
		if err != nil {
			t.Fatal(err)
		}
		_, suffix, _ := strings.Cut(info.ETag, "-")
		if suffix != strings.TrimPrefix(tc.suffix, "-") || info.Size != int64(tc.size) {
			t.Errorf("%d bytes: size %d ETag %q, want parts suffix %q", tc.size, info.Size, info.ETag, tc.suffix)
		}
	}
}

// TestPutMemoryBounded: a 64 MiB Put allocates about Concurrency x
// PartSize (15 MiB here), not the object.
func TestPutMemoryBounded(t *testing.T) {
	srv := testenv.StartS3(t)
	s := newStore(t, config(srv, srv.Bucket()))
	data := make([]byte, 64<<20)
	_, _ = rand.Read(data)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := s.Put(t.Context(), "big", struct{ io.Reader }{bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
		t.Errorf("Put of 64 MiB allocated %d MiB, want under 32 MiB", alloc>>20)
	}
}

// TestCancelAbortsUpload: a multipart Put cancelled while parts are in
// flight aborts its upload, so no parts stay behind on the server. (S3
// documents that a part finishing after the abort can survive it; the
// Store aborts until the upload is gone.)
func TestCancelAbortsUpload(t *testing.T) {
	srv := testenv.StartS3(t)
	s := newStore(t, config(srv, srv.Bucket()))
	for range 5 {
		ctx, cancel := context.WithCancel(t.Context())
		produced := 0
		src := readerFunc(func(p []byte) (int, error) {
			if produced >= 12<<20 {
				cancel() // parts 1 and 2 are in flight or done, 3 is filling
			}
			produced += len(p)
			return len(p), nil
		})
		if err := s.Put(ctx, "wal/cancelled", src); !errors.Is(err, context.Canceled) {
			t.Fatalf("Put = %v, want context.Canceled", err)
		}
	}
	c, err := minio.New(srv.Addr(), &minio.Options{
		Creds: credentials.NewStaticV4(srv.AccessKey(), srv.SecretKey(), ""), Region: srv.Region(), BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := minio.Core{Client: c}.ListMultipartUploads(t.Context(), srv.Bucket(), "", "", "", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range res.Uploads {
		t.Errorf("upload %s of %s left behind", u.UploadID, u.Key)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
