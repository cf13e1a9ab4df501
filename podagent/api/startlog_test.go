package api

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/tenure-pg/tenure/internal/testenv"
)

// TestStartupLogSaysProtection: the listening line says what auth and
// TLS the API runs with, and an open API warns (finding 1: nothing in
// the log said whether auth was on).
func TestStartupLogSaysProtection(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   func(*Config)
		want  []string
		avoid string
	}{
		{"token", func(c *Config) { c.Token = testToken }, []string{`auth="bearer token"`, "tls=false", "max_conns=512", "read_header_timeout=5s"}, "INSECURE"},
		{"insecure", func(c *Config) { c.Insecure = true }, []string{"[WARN]  api: INSECURE", "auth=none"}, testToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf syncBuffer
			cfg := DefaultConfig()
			tc.cfg(&cfg)
			_, stop := startServer(t, cfg, hclog.New(&hclog.LoggerOptions{Output: &buf}))
			testenv.Eventually(t, 5*time.Second, "the listening line", func() bool { return strings.Contains(buf.String(), "listening") })
			stop()
			for _, w := range tc.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("log lacks %q:\n%s", w, buf.String())
				}
			}
			if tc.avoid != "" && strings.Contains(buf.String(), tc.avoid) {
				t.Errorf("log contains %q:\n%s", tc.avoid, buf.String())
			}
		})
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
