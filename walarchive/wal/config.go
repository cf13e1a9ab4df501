package wal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tenure-pg/tenure/walarchive/codec"
	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/walname"
)

// StoreKind selects the storage backend.
type StoreKind string

// Backends.
const (
	StoreS3 StoreKind = "s3"
	StoreFS StoreKind = "fs" // a mounted filesystem: NFS export, PersistentVolume
)

// Config is what wal-push and wal-fetch need, as stored in the JSON file
// the agent writes next to the data directory. It holds no secrets: S3
// keys come from the environment or web identity (see S3Config), the
// encryption key from KeyFile.
type Config struct {
	Store   StoreKind      `json:"store"`
	S3      *S3Config      `json:"s3,omitempty"`
	FSRoot  string         `json:"fsRoot,omitempty"` // StoreFS: an existing directory
	Archive layout.Archive `json:"archive"`

	Compression codec.Compression `json:"compression,omitempty"` // default zstd
	Level       int               `json:"level,omitempty"`
	// KeyFile holds the AES-256 key (32 raw bytes, 64 hex digits or
	// base64); empty means no encryption. A Kubernetes Secret mounted as a
	// file, never an environment variable (visible in /proc/*/environ to
	// the same user and in `kubectl describe`).
	KeyFile string `json:"keyFile,omitempty"`

	// SegmentSize is the cluster's wal_segment_size; 0 means 16 MiB.
	SegmentSize walname.Size `json:"segmentSize,omitempty"`
	// Concurrency bounds the Push and Fetch calls an Archiver runs at once
	// (the rest wait). It bounds memory: one S3 upload holds up to
	// s3.concurrency x s3.partSize bytes.
	Concurrency int `json:"concurrency,omitempty"`
	// Timeout bounds one Push or Fetch. A hung upload holds up archiving,
	// and with it WAL recycling, until pg_wal fills the disk.
	Timeout Duration `json:"timeout,omitempty"`
	// FetchRetry is how long wal-fetch keeps retrying a fetch that failed
	// for any reason but "not in the archive" (store unreachable, object
	// corrupt) before it gives up. Giving up aborts a point-in-time
	// recovery (see cmd/tenure-agent) instead of ending it early, so this
	// is how long an S3 outage a restore rides out; a standby asks once
	// and lets postgres retry.
	FetchRetry Duration `json:"fetchRetry,omitempty"`
}

// Defaults.
const (
	DefaultConcurrency = 4
	DefaultTimeout     = 5 * time.Minute
	DefaultFetchRetry  = time.Minute
)

// Default fills the zero fields of c.
func (c Config) Default() Config {
	if c.Store == "" {
		c.Store = StoreS3
	}
	if c.Store == StoreS3 && c.S3 == nil {
		c.S3 = &S3Config{}
	}
	if c.S3 != nil {
		s := c.S3.Default()
		c.S3 = &s
	}
	opts := codec.Options{Compression: c.Compression, Level: c.Level}.Default()
	c.Compression, c.Level = opts.Compression, opts.Level
	if c.SegmentSize == 0 {
		c.SegmentSize = walname.DefaultSize
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Timeout == 0 {
		c.Timeout = Duration(DefaultTimeout)
	}
	if c.FetchRetry == 0 {
		c.FetchRetry = Duration(DefaultFetchRetry)
	}
	return c
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	switch c.Store {
	case StoreS3:
		if c.S3 == nil {
			errs = append(errs, errors.New("store s3 needs an s3 section"))
		} else {
			errs = append(errs, c.S3.Validate())
		}
	case StoreFS:
		if c.FSRoot == "" || !filepath.IsAbs(c.FSRoot) {
			errs = append(errs, fmt.Errorf("fsRoot %q: store fs needs an absolute directory", c.FSRoot))
		}
	default:
		errs = append(errs, fmt.Errorf("store %q: want %q or %q", c.Store, StoreS3, StoreFS))
	}
	errs = append(errs, c.Archive.Validate(), c.codecOptions(nil).Validate(), c.SegmentSize.Validate())
	if c.Concurrency < 1 || c.Concurrency > 64 {
		errs = append(errs, fmt.Errorf("concurrency %d: want 1 to 64", c.Concurrency))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeout %v: want a positive duration", time.Duration(c.Timeout)))
	}
	if c.FetchRetry < 0 {
		errs = append(errs, fmt.Errorf("fetchRetry %v: want 0 (the default) or a positive duration", time.Duration(c.FetchRetry)))
	}
	return errors.Join(errs...)
}

func (c Config) codecOptions(key []byte) codec.Options {
	return codec.Options{Compression: c.Compression, Level: c.Level, Key: key}
}

// CodecOptions are the options objects of this archive are written and
// read with, the encryption key loaded from KeyFile when one is set.
func (c Config) CodecOptions() (codec.Options, error) {
	var key []byte
	if c.KeyFile != "" {
		var err error
		if key, err = LoadKey(c.KeyFile); err != nil {
			return codec.Options{}, err
		}
	}
	return c.codecOptions(key), nil
}

// LoadConfig reads a JSON config, applies Default and validates it.
// Unknown fields are refused, so a misspelt setting, or an S3 key pasted
// into the file, fails loudly instead of being ignored.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("load archive config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("load archive config %s: %w", path, err)
	}
	c = c.Default()
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("load archive config %s: %w", path, err)
	}
	return c, nil
}

// Save writes c as JSON to path atomically (temporary file, fsync,
// rename), readable by all: it holds no secrets.
func (c Config) Save(path string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("save archive config: %w", err)
	}
	if err := writeAtomic(path, bytes.NewReader(append(b, '\n')), 0o644, -1); err != nil {
		return fmt.Errorf("save archive config: %w", err)
	}
	return nil
}

// Duration is a time.Duration written as "90s" in JSON.
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string like \"90s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}
