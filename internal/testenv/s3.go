package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Region is the region the test S3 server reports and signs for.
const S3Region = "us-east-1"

// S3 is a versitygw S3 server with its posix backend on 127.0.0.1 and a
// random port: buckets are directories and objects plain files under
// Dir()/data, so a failing test can be inspected with ls. It runs in
// single-account mode with static root keys. Every test gets its own
// bucket (NewBucket), so tests sharing one server run in parallel.
type S3 struct {
	dir       string
	ownDir    bool
	bin       string
	port      int // kept across Stop/Start
	accessKey string
	secretKey string
	bucket    string
	admin     *minio.Client // bucket creation and readiness probes

	mu   sync.Mutex
	proc *process // nil while stopped
}

// StartS3 starts an S3 server with a fresh bucket (Bucket) for t and
// removes it with its data when t ends. A missing versitygw binary skips t
// outside CI and fails it under CI=true (see Missing).
func StartS3(t testing.TB) *S3 {
	t.Helper()
	began := time.Now()
	s, err := NewS3(context.Background(), "")
	check(t, err)
	t.Logf("testenv: S3 (versitygw) at %s started in %v", s.Endpoint(), time.Since(began).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("versitygw log ends:\n%s", logTail(s.logPath()))
		}
		s.Close()
	})
	return s
}

// NewS3 starts an S3 server keeping its files under dir (a new temp dir,
// removed by Close, when dir is ""), creates a bucket, and returns once the
// server answers an authenticated request. It is StartS3 for benchmark and
// demo binaries; the caller must Close it.
func NewS3(ctx context.Context, dir string) (*S3, error) {
	bin, err := lookupVersitygw()
	if err != nil {
		return nil, err
	}
	s := &S3{dir: dir, bin: bin, accessKey: "tenure-" + randomToken()[:12], secretKey: randomToken()}
	if s.dir == "" {
		if s.dir, err = os.MkdirTemp("", "tenure-s3-"); err != nil {
			return nil, fmt.Errorf("start s3: %w", err)
		}
		s.ownDir = true
	}
	if err := os.MkdirAll(s.dataDir(), 0o755); err != nil {
		s.Close()
		return nil, fmt.Errorf("start s3: %w", err)
	}
	if err := s.startFirst(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("start s3: %w", err)
	}
	if s.bucket, err = s.createBucket(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("start s3: %w", err)
	}
	return s, nil
}

// startFirst picks the port, retrying with another when a different
// process took it between freePort and the bind.
func (s *S3) startFirst(ctx context.Context) error {
	var err error
	for range startAttempts {
		if s.port, err = freePort("127.0.0.1"); err != nil {
			return err
		}
		if s.admin, err = s.newClient(); err != nil {
			return err
		}
		var proc *process
		proc, err = s.launch(ctx)
		if err == nil || proc == nil || !proc.addrInUse() {
			return err
		}
	}
	return err
}

// newClient makes the admin client. It keeps no idle connections, so a
// probe after Start never reuses one to the stopped server.
func (s *S3) newClient() (*minio.Client, error) {
	tr, err := minio.DefaultTransport(false)
	if err != nil {
		return nil, err
	}
	tr.DisableKeepAlives = true
	return minio.New(s.Addr(), &minio.Options{
		Creds:        credentials.NewStaticV4(s.accessKey, s.secretKey, ""),
		Region:       S3Region,
		BucketLookup: minio.BucketLookupPath,
		Transport:    tr,
		MaxRetries:   1,
	})
}

// Start starts the server again after Stop, on the same port and data, so
// clients made before the outage reconnect by themselves. It returns once
// the server answers an authenticated request.
func (s *S3) Start(ctx context.Context) error {
	_, err := s.launch(ctx)
	return err
}

func (s *S3) launch(ctx context.Context) (*process, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return nil, fmt.Errorf("start versitygw: already running")
	}
	proc, err := startProcess(procSpec{
		name: "versitygw",
		path: s.bin,
		args: []string{
			"--access", s.accessKey,
			"--secret", s.secretKey,
			"--region", S3Region,
			"--port", s.Addr(),
			// Without it versitygw closes every connection after one
			// request, which halves small-object throughput.
			"--keep-alive",
			"--quiet", // no line per request in the log
			"posix", s.dataDir(),
		},
		logPath: s.logPath(),
	})
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, proc, s.ready); err != nil {
		proc.stop(syscall.SIGTERM, stopGrace)
		return proc, fmt.Errorf("start versitygw: %w", err)
	}
	s.proc = proc
	return proc, nil
}

// ready lists buckets as the root user: the listener is up, the keys are
// accepted and the backend reads its directory.
func (s *S3) ready(ctx context.Context) error {
	_, err := s.admin.ListBuckets(ctx)
	return err
}

// Stop stops the server (SIGTERM, then SIGKILL after a bound) and keeps
// its data, to simulate an S3 outage: clients see connection refused until
// Start. It does nothing if the server is stopped.
func (s *S3) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	s.proc.stop(syscall.SIGTERM, stopGrace)
	s.proc = nil
}

// Close stops the server and removes the dir NewS3 made. It is safe to call
// more than once.
func (s *S3) Close() {
	s.Stop()
	if s.ownDir {
		_ = os.RemoveAll(s.dir)
	}
}

// NewBucket creates an empty bucket for t and returns its name. The bucket
// goes with the server's data when the server is closed.
func (s *S3) NewBucket(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	name, err := s.createBucket(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return name
}

func (s *S3) createBucket(ctx context.Context) (string, error) {
	name := "tenure-" + randomToken()[:16]
	if err := s.admin.MakeBucket(ctx, name, minio.MakeBucketOptions{Region: S3Region}); err != nil {
		return "", fmt.Errorf("create bucket %s: %w", name, err)
	}
	return name, nil
}

// Endpoint is the server's URL, http://127.0.0.1:port.
func (s *S3) Endpoint() string { return "http://" + s.Addr() }

// Addr is the server's host:port.
func (s *S3) Addr() string { return hostPort("127.0.0.1", s.port) }

// Port is the server's TCP port.
func (s *S3) Port() int { return s.port }

// Bucket is the bucket NewS3 created.
func (s *S3) Bucket() string { return s.bucket }

// AccessKey and SecretKey are the root user's static credentials.
func (s *S3) AccessKey() string { return s.accessKey }

// SecretKey: see AccessKey.
func (s *S3) SecretKey() string { return s.secretKey }

// Region is S3Region.
func (s *S3) Region() string { return S3Region }

// Dir holds the log and, under data/, one directory per bucket.
func (s *S3) Dir() string { return s.dir }

// PID is the server's process id, 0 while stopped (for RSS measurements).
func (s *S3) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

func (s *S3) dataDir() string { return filepath.Join(s.dir, "data") }
func (s *S3) logPath() string { return filepath.Join(s.dir, "versitygw.log") }

// S3Outage is how long the S3 outage tests keep the server down:
// $TENURE_TEST_S3_OUTAGE (e.g. 60s for the figure), default 15 s:
// three of PostgreSQL's 5 s wal_retrieve_retry_interval, and well past an
// archive config's fetchRetry in those tests, so a standby asks and fails
// repeatedly.
func S3Outage(t testing.TB) time.Duration {
	t.Helper()
	if v := os.Getenv("TENURE_TEST_S3_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("TENURE_TEST_S3_OUTAGE: %v", err)
		}
		return d
	}
	return 15 * time.Second
}
