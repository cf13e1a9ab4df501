package s3store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/tenure-pg/tenure/walarchive/storage"
)

// ErrNoBucket: the configured bucket does not exist. It never wraps
// storage.ErrNotFound.
var ErrNoBucket = errors.New("bucket does not exist")

// Store is a storage.Store on one bucket and prefix. It is safe for
// concurrent use.
type Store struct {
	cfg    Config
	client *minio.Client
	core   minio.Core
	prefix string // cfg.Prefix + "/", or ""
	secure bool   // https endpoint

	// bucketSeen is set once a request proved the bucket exists; until
	// then a 404 from HEAD checks the bucket (see the package doc).
	bucketSeen atomic.Bool
	parts      sync.Pool // *[]byte of PartSize
}

var _ storage.Store = (*Store)(nil)

// New returns a Store for cfg, which must pass Validate (New calls it). It
// makes no request: use Check to test reachability and credentials.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	u, _ := cfg.endpointURL()
	tr, err := cfg.transport(u.Scheme == "https")
	if err != nil {
		return nil, err
	}
	lookup := minio.BucketLookupDNS
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(u.Host, &minio.Options{
		Creds:        cfg.credentials(),
		Secure:       u.Scheme == "https",
		Region:       cfg.Region,
		BucketLookup: lookup,
		Transport:    tr,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 client: %w", err)
	}
	s := &Store{cfg: cfg, client: client, core: minio.Core{Client: client}, secure: u.Scheme == "https"}
	if cfg.Prefix != "" {
		s.prefix = cfg.Prefix + "/"
	}
	s.parts.New = func() any { b := make([]byte, cfg.PartSize); return &b }
	return s, nil
}

func (c Config) transport(secure bool) (*http.Transport, error) {
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, fmt.Errorf("s3 transport: %w", err)
	}
	// One connection per concurrently uploading part, plus reads.
	tr.MaxIdleConnsPerHost = max(tr.MaxIdleConnsPerHost, 2*c.Concurrency)
	if !secure {
		return tr, nil
	}
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tr.TLSClientConfig.InsecureSkipVerify = c.InsecureSkipVerify
	if len(c.CACertPEM) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		pool.AppendCertsFromPEM(c.CACertPEM)
		tr.TLSClientConfig.RootCAs = pool
	}
	return tr, nil
}

func (c Config) credentials() *credentials.Credentials {
	iam := &credentials.IAM{Endpoint: c.STSEndpoint}
	switch c.Credentials {
	case CredentialsStatic:
		return credentials.NewStaticV4(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	case CredentialsEnv:
		return credentials.NewEnvAWS()
	case CredentialsIAM:
		return credentials.New(iam)
	}
	if c.AccessKeyID != "" {
		return credentials.NewStaticV4(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	}
	return credentials.NewChainCredentials([]credentials.Provider{&credentials.EnvAWS{}, iam})
}

// Check verifies that the bucket exists and the credentials may read it.
// Run it at start: it turns a typo in the bucket name into a clear error
// instead of a restore that finds nothing.
func (s *Store) Check(ctx context.Context) error {
	if err := s.checkBucket(ctx); err != nil {
		return fmt.Errorf("check s3://%s: %w", s.cfg.Bucket, err)
	}
	for _, err := range s.List(ctx, "") {
		if err != nil {
			return fmt.Errorf("check s3://%s: %w", s.cfg.Bucket, err)
		}
		break
	}
	return nil
}

func (s *Store) checkBucket(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNoBucket
	}
	s.bucketSeen.Store(true)
	return nil
}

func (s *Store) object(key string) string { return s.prefix + key }

// mapError turns an S3 error into the storage contract's: NoSuchKey wraps
// ErrNotFound, NoSuchBucket wraps ErrNoBucket, everything else keeps the
// S3 code and message.
func mapError(err error) error {
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey:
		return fmt.Errorf("%w (%w)", storage.ErrNotFound, err)
	case minio.NoSuchBucket:
		return fmt.Errorf("%w (%w)", ErrNoBucket, err)
	}
	return err
}

// notFound handles a 404 from HEAD, which cannot tell key from bucket.
func (s *Store) notFound(ctx context.Context, err error) error {
	if minio.ToErrorResponse(err).Code != minio.NoSuchKey || s.bucketSeen.Load() {
		return mapError(err)
	}
	if berr := s.checkBucket(ctx); berr != nil {
		return berr
	}
	return mapError(err)
}
