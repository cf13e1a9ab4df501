package wal

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/storage/memstore"
)

func s3Config() Config {
	return Config{
		S3:      &S3Config{Endpoint: "http://127.0.0.1:9000", Region: "us-east-1", Bucket: "archive", PathStyle: true},
		Archive: layout.Archive{Prefix: "tenure", Cluster: "orders", UID: "uid-1", Major: 15},
		KeyFile: "/etc/tenure/archive-key",
		Timeout: Duration(90 * time.Second),
	}.Default()
}

func TestConfigSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tenure-archive.json")
	want := s3Config()
	if err := want.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	raw, _ := os.ReadFile(path)
	if !strings.Contains(string(raw), `"timeout": "1m30s"`) {
		t.Errorf("timeout not written as a duration string:\n%s", raw)
	}
}

func TestConfigRefusesSecretsAndTypos(t *testing.T) {
	cases := map[string]string{
		"secret key in file": `{"store":"s3","s3":{"bucket":"archive","secretAccessKey":"x"},"archive":{"cluster":"c","uid":"u","major":15}}`,
		"static credentials": `{"store":"s3","s3":{"bucket":"archive","credentials":"static"},"archive":{"cluster":"c","uid":"u","major":15}}`,
		"typo":               `{"store":"s3","s3":{"bucket":"archive"},"archive":{"cluster":"c","uid":"u","major":15},"compresion":"lz4"}`,
		"bad duration":       `{"store":"fs","fsRoot":"/a","archive":{"cluster":"c","uid":"u","major":15},"timeout":30}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.json")
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadConfig(path); err == nil {
				t.Error("accepted")
			} else if strings.Contains(err.Error(), `"x"`) {
				t.Errorf("error repeats the secret: %v", err)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	cases := map[string]struct {
		edit func(*Config)
		want string
	}{
		"store":       {func(c *Config) { c.Store = "gcs" }, "store"},
		"fs relative": {func(c *Config) { c.Store, c.FSRoot = StoreFS, "archive" }, "fsRoot"},
		"bucket":      {func(c *Config) { c.S3.Bucket = "" }, "bucket"},
		"cluster":     {func(c *Config) { c.Archive.Cluster = "" }, "cluster"},
		"compression": {func(c *Config) { c.Compression = "gzip" }, "compression"},
		"segment":     {func(c *Config) { c.SegmentSize = 3 << 20 }, "segment size"},
		"concurrency": {func(c *Config) { c.Concurrency = 0 }, "concurrency"},
		"timeout":     {func(c *Config) { c.Timeout = -1 }, "timeout"},
	}
	if err := s3Config().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := s3Config()
			s := *c.S3
			c.S3 = &s
			tc.edit(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want a %s error", err, tc.want)
			}
		})
	}
}

func TestLoadKey(t *testing.T) {
	key := []byte("0123456789abcdef0123456789ABCDEF")
	dir := t.TempDir()
	for name, content := range map[string]string{
		"raw":    string(key),
		"hex":    hex.EncodeToString(key) + "\n",
		"base64": " " + base64.StdEncoding.EncodeToString(key) + "\n",
	} {
		path := filepath.Join(dir, name)
		_ = os.WriteFile(path, []byte(content), 0o600)
		got, err := LoadKey(path)
		if err != nil || string(got) != string(key) {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
	bad := filepath.Join(dir, "bad")
	_ = os.WriteFile(bad, []byte("hunter2-is-not-a-key"), 0o600)
	if _, err := LoadKey(bad); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad key: %v (must fail without echoing the content)", err)
	}
}

func TestCollector(t *testing.T) {
	dir := t.TempDir()
	walDir := filepath.Join(dir, "pg_wal")
	statusDir := filepath.Join(walDir, "archive_status")
	if err := os.MkdirAll(statusDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"000000010000000000000003.ready", "000000010000000000000004.ready", "000000010000000000000002.done"} {
		_ = os.WriteFile(filepath.Join(statusDir, f), nil, 0o600)
	}
	a := newArchiver(t, memstore.New(), testConfig())
	a.now = func() time.Time { return time.Unix(1700000000, 0) }
	path, _ := writeWAL(t, walDir, "000000010000000000000002", int(testSegSize), 1)
	if err := a.Push(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	_ = a.Push(t.Context(), filepath.Join(walDir, "000000010000000000000003")) // missing: a failure
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(a.Collector(walDir))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			for _, l := range m.GetLabel() {
				name += "{" + l.GetValue() + "}"
			}
			got[name] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	stored := got["tenure_wal_archived_bytes_total{stored}"]
	want := map[string]float64{
		"tenure_wal_archived_total":                         1,
		"tenure_wal_archive_failures_total":                 1,
		"tenure_wal_last_archived_timestamp_seconds":        1700000000,
		"tenure_wal_last_archive_failure_timestamp_seconds": 1700000000,
		"tenure_wal_archive_ready_files":                    2,
		"tenure_wal_archived_bytes_total{plain}":            float64(testSegSize),
		"tenure_wal_archived_bytes_total{stored}":           stored,
		"tenure_wal_fetched_total":                          0,
		"tenure_wal_fetch_failures_total":                   0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
	if stored <= 0 || stored >= float64(testSegSize)/4 {
		t.Errorf("stored bytes %v", stored)
	}
}
