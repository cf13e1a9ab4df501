package wal

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/tenure-pg/tenure/walarchive/codec"
	"github.com/tenure-pg/tenure/walarchive/storage"
	"github.com/tenure-pg/tenure/walarchive/storage/fsstore"
	"github.com/tenure-pg/tenure/walarchive/storage/s3store"
)

// S3Config is s3store.Config without the fields that hold secrets. Keys
// come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (credentials "env"
// or "auto") or from web identity / instance roles ("iam" or "auto").
type S3Config struct {
	Endpoint  string `json:"endpoint,omitempty"`
	Region    string `json:"region,omitempty"`
	Bucket    string `json:"bucket"`
	Prefix    string `json:"prefix,omitempty"`
	PathStyle bool   `json:"pathStyle,omitempty"`

	Credentials s3store.CredentialSource `json:"credentials,omitempty"` // auto (default), env or iam
	STSEndpoint string                   `json:"stsEndpoint,omitempty"`

	PartSize    int64              `json:"partSize,omitempty"`
	Concurrency int                `json:"concurrency,omitempty"`
	CreateMode  s3store.CreateMode `json:"createMode,omitempty"`

	// CACertFile is a PEM bundle of extra trusted CAs.
	CACertFile         string `json:"caCertFile,omitempty"`
	InsecureSkipVerify bool   `json:"insecureSkipVerify,omitempty"`
}

// Default fills the zero fields as s3store.Config.Default does.
func (c S3Config) Default() S3Config {
	d := c.store().Default()
	c.Endpoint, c.Credentials, c.PartSize, c.Concurrency, c.CreateMode = d.Endpoint, d.Credentials, d.PartSize, d.Concurrency, d.CreateMode
	return c
}

// Validate checks c as s3store would, and refuses static keys.
func (c S3Config) Validate() error {
	var errs []error
	if c.Credentials == s3store.CredentialsStatic {
		errs = append(errs, fmt.Errorf("s3 credentials %q: keys are not kept in the config file; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY and use %q or %q",
			c.Credentials, s3store.CredentialsEnv, s3store.CredentialsAuto))
	}
	errs = append(errs, c.store().Validate())
	return errors.Join(errs...)
}

// store is the s3store.Config for c, CA file not yet read.
func (c S3Config) store() s3store.Config {
	return s3store.Config{Endpoint: c.Endpoint, Region: c.Region, Bucket: c.Bucket, Prefix: c.Prefix, PathStyle: c.PathStyle,
		Credentials: c.Credentials, STSEndpoint: c.STSEndpoint, PartSize: c.PartSize, Concurrency: c.Concurrency,
		CreateMode: c.CreateMode, InsecureSkipVerify: c.InsecureSkipVerify}
}

// OpenStore builds the configured store. It makes no request.
func OpenStore(_ context.Context, c Config) (storage.Store, error) {
	switch c.Store {
	case StoreFS:
		s, err := fsstore.New(c.FSRoot)
		if err != nil {
			return nil, fmt.Errorf("open archive store: %w", err)
		}
		return s, nil
	case StoreS3:
		if c.S3 == nil {
			return nil, errors.New("open archive store: no s3 section")
		}
		sc := c.S3.store()
		if c.S3.CACertFile != "" {
			pem, err := os.ReadFile(c.S3.CACertFile)
			if err != nil {
				return nil, fmt.Errorf("open archive store: %w", err)
			}
			sc.CACertPEM = pem
		}
		s, err := s3store.New(sc)
		if err != nil {
			return nil, fmt.Errorf("open archive store: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("open archive store: unknown store %q", c.Store)
}

// LoadKey reads an AES-256 key file: 32 raw bytes, or 64 hex digits, or
// 32 bytes in standard base64, surrounding whitespace ignored (an editor's
// newline must not change the key).
func LoadKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read encryption key: %w", err)
	}
	if len(b) == codec.KeySize {
		return b, nil
	}
	s := strings.TrimSpace(string(b))
	if k, err := hex.DecodeString(s); err == nil && len(k) == codec.KeySize {
		return k, nil
	}
	if k, err := base64.StdEncoding.DecodeString(s); err == nil && len(k) == codec.KeySize {
		return k, nil
	}
	// The length only: the content is a secret even when malformed.
	return nil, fmt.Errorf("read encryption key %s: %d bytes are neither 32 raw bytes, 64 hex digits nor base64 of 32 bytes", path, len(b))
}
