package s3store

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/tenure-pg/tenure/walarchive/storage"
)

// CredentialSource says where the Store gets its keys.
type CredentialSource string

const (
	// CredentialsAuto: static keys when AccessKeyID is set, otherwise the
	// environment, then IAM (the order of the AWS SDKs' default chain).
	CredentialsAuto CredentialSource = "auto"
	// CredentialsStatic: AccessKeyID, SecretAccessKey and SessionToken.
	CredentialsStatic CredentialSource = "static"
	// CredentialsEnv: AWS_ACCESS_KEY_ID (or AWS_ACCESS_KEY),
	// AWS_SECRET_ACCESS_KEY (or AWS_SECRET_KEY) and AWS_SESSION_TOKEN, read
	// when a request is signed.
	CredentialsEnv CredentialSource = "env"
	// CredentialsIAM: web identity (IRSA), EKS Pod Identity, ECS, then the
	// EC2 instance profile; see the package doc. The client reads the
	// AWS_* variables those mechanisms define, and re-reads the rotated
	// token file on refresh.
	CredentialsIAM CredentialSource = "iam"
)

// CreateMode selects how Create refuses an existing key (see package doc).
type CreateMode string

const (
	// CreateConditional sends If-None-Match: * (atomic).
	CreateConditional CreateMode = "conditional"
	// CreateHeadThenPut checks with HEAD first (not atomic), for servers
	// that ignore If-None-Match.
	CreateHeadThenPut CreateMode = "head-then-put"
)

// S3 limits on multipart uploads.
const (
	MinPartSize = 5 << 20
	MaxPartSize = 5 << 30
	MaxParts    = 10000
)

// Config configures a Store. Parse it once (in main), apply Default, and
// Validate before New.
type Config struct {
	// Endpoint is the S3 API's URL with scheme and no path:
	// "https://s3.eu-central-1.amazonaws.com", "http://minio.backup:9000".
	// Default "https://s3.amazonaws.com" (the client then uses the
	// bucket's regional endpoint).
	Endpoint string
	// Region signs requests. Empty asks the bucket for its location once
	// (GetBucketLocation); set it to save the request or where that call
	// is not allowed.
	Region string
	Bucket string
	// Prefix puts every key under "Prefix/" in the bucket, so clusters can
	// share a bucket without seeing each other's objects: "clusters/prod"
	// holds "clusters/prod/wal/..." and never lists "clusters/prod2/...".
	// It follows the key rules and has no leading or trailing '/'.
	Prefix string
	// PathStyle addresses the bucket as endpoint/bucket/key instead of
	// bucket.endpoint/key (virtual-host style, AWS's default). Most
	// self-hosted servers and any IP-address endpoint need path style.
	PathStyle bool

	Credentials     CredentialSource
	AccessKeyID     string // CredentialsStatic only
	SecretAccessKey string // CredentialsStatic only
	SessionToken    string // CredentialsStatic only, optional
	// STSEndpoint overrides the STS URL for web identity (IRSA); default
	// https://sts.<AWS_REGION>.amazonaws.com. For private STS endpoints.
	STSEndpoint string

	// PartSize is the multipart chunk size. An object is at most
	// MaxParts x PartSize (160 GB at the 16 MiB default); a Put holds up to
	// Concurrency x PartSize bytes in memory (64 MiB by default).
	PartSize int64
	// Concurrency is how many parts of one Put upload at once.
	Concurrency int

	// CreateMode: CreateConditional (default) or CreateHeadThenPut.
	CreateMode CreateMode

	// CACertPEM adds trusted CAs (PEM) to the system pool, for servers
	// with a private CA. HTTPS endpoints only.
	CACertPEM []byte
	// InsecureSkipVerify disables TLS certificate checks. Tests and
	// throwaway setups only.
	InsecureSkipVerify bool
}

// Defaults.
const (
	DefaultEndpoint    = "https://s3.amazonaws.com"
	DefaultPartSize    = 16 << 20
	DefaultConcurrency = 4
)

// Default fills the zero fields of c with defaults and returns it.
func (c Config) Default() Config {
	if c.Endpoint == "" {
		c.Endpoint = DefaultEndpoint
	}
	if c.Credentials == "" {
		c.Credentials = CredentialsAuto
	}
	if c.PartSize == 0 {
		c.PartSize = DefaultPartSize
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.CreateMode == "" {
		c.CreateMode = CreateConditional
	}
	return c
}

// maxConcurrency bounds memory: 64 x 16 MiB is already 1 GiB per Put.
const maxConcurrency = 64

// Validate reports every problem with c at once, each as "s3 <field>: ...".
func (c Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("s3 %s: %s", field, fmt.Sprintf(format, args...)))
	}
	u, err := c.endpointURL()
	if err != nil {
		add("endpoint", "%v", err)
	}
	if err := validateBucket(c.Bucket); err != nil {
		add("bucket", "%v", err)
	} else if u != nil && !c.PathStyle {
		if err := virtualHostProblem(u, c.Bucket); err != nil {
			add("pathStyle", "%v", err)
		}
	}
	if c.Region != "" && !regionRE.MatchString(c.Region) {
		add("region", "%q is not a region name like eu-central-1", c.Region)
	}
	if c.Prefix != "" {
		if strings.HasPrefix(c.Prefix, "/") || strings.HasSuffix(c.Prefix, "/") {
			add("prefix", "%q: write it without leading or trailing '/'", c.Prefix)
		} else if err := storage.ValidateKey(c.Prefix); err != nil {
			add("prefix", "%v", err)
		}
	}
	errs = append(errs, c.validateCredentials()...)
	if c.PartSize < MinPartSize || c.PartSize > MaxPartSize {
		add("partSize", "%d bytes, want %d (5 MiB) to %d (5 GiB)", c.PartSize, MinPartSize, MaxPartSize)
	}
	if c.Concurrency < 1 || c.Concurrency > maxConcurrency {
		add("concurrency", "%d, want 1 to %d", c.Concurrency, maxConcurrency)
	}
	if c.CreateMode != CreateConditional && c.CreateMode != CreateHeadThenPut {
		add("createMode", "%q, want %q or %q", c.CreateMode, CreateConditional, CreateHeadThenPut)
	}
	if u != nil && u.Scheme != "https" && (len(c.CACertPEM) > 0 || c.InsecureSkipVerify) {
		add("endpoint", "TLS settings given for a plain http endpoint %s", c.Endpoint)
	}
	if len(c.CACertPEM) > 0 && !x509.NewCertPool().AppendCertsFromPEM(c.CACertPEM) {
		add("caCert", "no PEM certificate found")
	}
	return errors.Join(errs...)
}

func (c Config) validateCredentials() []error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("s3 credentials: %s", fmt.Sprintf(format, args...)))
	}
	keys := c.AccessKeyID != "" || c.SecretAccessKey != "" || c.SessionToken != ""
	switch c.Credentials {
	case CredentialsStatic:
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			add("static needs both accessKeyID and secretAccessKey")
		}
	case CredentialsAuto:
		if keys && (c.AccessKeyID == "" || c.SecretAccessKey == "") {
			add("give both accessKeyID and secretAccessKey, or neither")
		}
	case CredentialsEnv, CredentialsIAM:
		if keys {
			add("%s ignores the static keys given; remove them or use %q", c.Credentials, CredentialsStatic)
		}
	default:
		add("%q, want %q, %q, %q or %q", c.Credentials, CredentialsAuto, CredentialsStatic, CredentialsEnv, CredentialsIAM)
	}
	if c.STSEndpoint != "" {
		if c.Credentials != CredentialsIAM && c.Credentials != CredentialsAuto {
			add("stsEndpoint is used with %q or %q credentials only", CredentialsIAM, CredentialsAuto)
		}
		if u, err := url.Parse(c.STSEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("stsEndpoint %q is not an http(s) URL", c.STSEndpoint)
		}
	}
	return errs
}

// endpointURL parses Endpoint, which must be scheme://host[:port] only.
func (c Config) endpointURL() (*url.URL, error) {
	u, err := url.Parse(c.Endpoint)
	switch {
	case err != nil:
		return nil, err
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q needs an http:// or https:// scheme", c.Endpoint)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("%q has no host", c.Endpoint)
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.User != nil, u.Fragment != "":
		return nil, fmt.Errorf("%q: give scheme://host[:port] only; put key prefixes in prefix", c.Endpoint)
	}
	return u, nil
}

// virtualHostProblem explains why bucket.host cannot work for u.
func virtualHostProblem(u *url.URL, bucket string) error {
	if net.ParseIP(u.Hostname()) != nil {
		return fmt.Errorf("virtual-host style needs a DNS name, endpoint %s is an IP address; set pathStyle", u.Host)
	}
	if u.Scheme == "https" && strings.Contains(bucket, ".") {
		return fmt.Errorf("bucket %q contains '.', so %s.%s does not match a *.%s TLS certificate; set pathStyle", bucket, bucket, u.Hostname(), u.Hostname())
	}
	return nil
}

var (
	// bucketRE is S3's bucket naming rule: 3-63 characters, lowercase
	// letters, digits, '.' and '-', starting and ending alphanumeric.
	bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	regionRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*[a-z0-9]$`)
)

func validateBucket(b string) error {
	switch {
	case b == "":
		return errors.New("required")
	case !bucketRE.MatchString(b):
		return fmt.Errorf("%q: want 3-63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit", b)
	case strings.Contains(b, ".."):
		return fmt.Errorf("%q: contains \"..\"", b)
	case net.ParseIP(b) != nil:
		return fmt.Errorf("%q: formatted as an IP address", b)
	}
	return nil
}
