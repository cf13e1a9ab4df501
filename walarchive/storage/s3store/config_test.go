package s3store_test

import (
	"strings"
	"testing"

	"github.com/tenure-pg/tenure/walarchive/storage/s3store"
)

// awsConfig is a valid virtual-host style AWS configuration.
func awsConfig() s3store.Config {
	return s3store.Config{
		Endpoint: "https://s3.eu-central-1.amazonaws.com",
		Region:   "eu-central-1",
		Bucket:   "tenure-archive",
	}.Default()
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*s3store.Config)
		want   string // substring of the error; "" for valid
	}{
		{"aws virtual-host", func(*s3store.Config) {}, ""},
		{"default endpoint", func(c *s3store.Config) { c.Endpoint = ""; *c = c.Default() }, ""},
		{"self-hosted path style on IP", func(c *s3store.Config) { c.Endpoint = "http://10.0.0.5:9000"; c.PathStyle = true }, ""},
		{"virtual-host on IP", func(c *s3store.Config) { c.Endpoint = "http://10.0.0.5:9000" }, "s3 pathStyle: virtual-host style needs a DNS name"},
		{"virtual-host dotted bucket over https", func(c *s3store.Config) { c.Bucket = "archive.example.com" }, "does not match a *.s3.eu-central-1.amazonaws.com TLS certificate"},
		{"path style dotted bucket over https", func(c *s3store.Config) { c.Bucket = "archive.example.com"; c.PathStyle = true }, ""},
		{"virtual-host dotted bucket over http", func(c *s3store.Config) { c.Bucket = "a.b"; c.Endpoint = "http://minio.local:9000" }, ""},
		{"no bucket", func(c *s3store.Config) { c.Bucket = "" }, "s3 bucket: required"},
		{"uppercase bucket", func(c *s3store.Config) { c.Bucket = "Archive" }, "s3 bucket: \"Archive\""},
		{"bucket like IP", func(c *s3store.Config) { c.Bucket = "192.168.1.1"; c.PathStyle = true }, "formatted as an IP address"},
		{"bucket with ..", func(c *s3store.Config) { c.Bucket = "a..b"; c.PathStyle = true }, "contains \"..\""},
		{"endpoint without scheme", func(c *s3store.Config) { c.Endpoint = "s3.amazonaws.com" }, "needs an http:// or https:// scheme"},
		{"endpoint with path", func(c *s3store.Config) { c.Endpoint = "https://s3.example.com/archive" }, "put key prefixes in prefix"},
		{"region", func(c *s3store.Config) { c.Region = "EU Central" }, "s3 region"},
		{"prefix", func(c *s3store.Config) { c.Prefix = "clusters/prod" }, ""},
		{"prefix trailing slash", func(c *s3store.Config) { c.Prefix = "clusters/" }, "without leading or trailing '/'"},
		{"prefix leading slash", func(c *s3store.Config) { c.Prefix = "/clusters" }, "without leading or trailing '/'"},
		{"prefix dot-dot", func(c *s3store.Config) { c.Prefix = "a/../b" }, "s3 prefix: key"},
		{"static keys", func(c *s3store.Config) {
			c.Credentials, c.AccessKeyID, c.SecretAccessKey = s3store.CredentialsStatic, "AK", "SK"
		}, ""},
		{"static without secret", func(c *s3store.Config) { c.Credentials, c.AccessKeyID = s3store.CredentialsStatic, "AK" }, "static needs both"},
		{"auto with half the keys", func(c *s3store.Config) { c.AccessKeyID = "AK" }, "both accessKeyID and secretAccessKey, or neither"},
		{"iam with keys", func(c *s3store.Config) {
			c.Credentials, c.AccessKeyID, c.SecretAccessKey = s3store.CredentialsIAM, "AK", "SK"
		}, "iam ignores the static keys"},
		{"unknown source", func(c *s3store.Config) { c.Credentials = "vault" }, "s3 credentials: \"vault\""},
		{"sts endpoint with iam", func(c *s3store.Config) {
			c.Credentials, c.STSEndpoint = s3store.CredentialsIAM, "https://sts.eu-central-1.amazonaws.com"
		}, ""},
		{"sts endpoint with env", func(c *s3store.Config) {
			c.Credentials, c.STSEndpoint = s3store.CredentialsEnv, "https://sts.example.com"
		}, "stsEndpoint is used with"},
		{"sts endpoint not a URL", func(c *s3store.Config) { c.STSEndpoint = "sts.example.com" }, "is not an http(s) URL"},
		{"part size too small", func(c *s3store.Config) { c.PartSize = 1 << 20 }, "s3 partSize: 1048576 bytes"},
		{"part size too large", func(c *s3store.Config) { c.PartSize = 6 << 30 }, "s3 partSize"},
		{"concurrency", func(c *s3store.Config) { c.Concurrency = 100 }, "s3 concurrency: 100"},
		{"create mode", func(c *s3store.Config) { c.CreateMode = "maybe" }, "s3 createMode"},
		{"TLS options on http", func(c *s3store.Config) {
			c.Endpoint, c.PathStyle, c.InsecureSkipVerify = "http://minio:9000", true, true
		}, "TLS settings given for a plain http endpoint"},
		{"CA not PEM", func(c *s3store.Config) { c.CACertPEM = []byte("not a certificate") }, "s3 caCert"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := awsConfig()
			tc.change(&cfg)
			err := cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.want != "" && err == nil:
				t.Fatalf("Validate() = nil, want an error with %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("Validate() = %v, want an error with %q", err, tc.want)
			}
			if _, nerr := s3store.New(cfg); (nerr == nil) != (err == nil) {
				t.Errorf("New() = %v, Validate() = %v: they must agree", nerr, err)
			}
		})
	}
}

// TestConfigValidateReportsAll: one Validate lists every problem, so a
// operator fixes a manifest in one round.
func TestConfigValidateReportsAll(t *testing.T) {
	cfg := s3store.Config{Endpoint: "s3", Bucket: "B", PartSize: 1, Concurrency: -1}.Default()
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate() = nil")
	}
	for _, field := range []string{"s3 endpoint", "s3 bucket", "s3 partSize", "s3 concurrency"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("Validate() = %v, missing %q", err, field)
		}
	}
}
