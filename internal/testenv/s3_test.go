package testenv_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/tenure-pg/tenure/internal/testenv"
)

func s3Client(t *testing.T, s *testenv.S3) *minio.Client {
	t.Helper()
	c, err := minio.New(s.Addr(), &minio.Options{
		Creds:        credentials.NewStaticV4(s.AccessKey(), s.SecretKey(), ""),
		Region:       s.Region(),
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestS3StopStartKeepsData: Stop makes the server unreachable, Start brings
// it back on the same port with the same objects, and an old client works
// again without being rebuilt.
func TestS3StopStartKeepsData(t *testing.T) {
	t.Parallel()
	s := testenv.StartS3(t)
	c := s3Client(t, s)
	ctx := t.Context()
	body := []byte("archived")
	if _, err := c.PutObject(ctx, s.Bucket(), "wal/1", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("put: %v", err)
	}
	t.Logf("versitygw RSS after start and one put: %s", rss(s.PID()))

	s.Stop()
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := c.StatObject(short, s.Bucket(), "wal/1", minio.StatObjectOptions{}); err == nil {
		t.Fatal("stat succeeded while the server was stopped")
	}
	began := time.Now()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("restart took %v", time.Since(began).Round(time.Millisecond))
	obj, err := c.GetObject(ctx, s.Bucket(), "wal/1", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("after restart got %q, %v; want %q", got, err, body)
	}
}

func TestS3NewBucketIsFreshAndEmpty(t *testing.T) {
	t.Parallel()
	s := testenv.StartS3(t)
	c := s3Client(t, s)
	a, b := s.NewBucket(t), s.NewBucket(t)
	if a == b || a == s.Bucket() {
		t.Fatalf("buckets not distinct: %s, %s, %s", s.Bucket(), a, b)
	}
	for obj := range c.ListObjects(t.Context(), a, minio.ListObjectsOptions{Recursive: true}) {
		t.Errorf("new bucket %s holds %v (%v)", a, obj.Key, obj.Err)
	}
}

// rss reads VmRSS from /proc for the log line; "?" where unavailable.
func rss(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "?"
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
