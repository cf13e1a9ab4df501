package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestAPIAuthFlags: issue #12 finding 1 — the agent no longer starts its
// REST API open by default; it needs the cluster's token or an explicit
// --api-insecure.
func TestAPIAuthFlags(t *testing.T) {
	dir := t.TempDir()
	tok, empty := filepath.Join(dir, "token"), filepath.Join(dir, "empty")
	if err := os.WriteFile(tok, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TENURE_API_TOKEN_FILE", "")
	base := []string{"--cluster", "pg", "--name", "pg-0", "--data-dir", "/tmp/x", "--pod-ip", "127.0.0.1"}
	for _, c := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no token refused", nil, "no REST API token"},
		{"empty token file refused", []string{"--api-token-file", empty}, "is empty"},
		{"token file", []string{"--api-token-file", tok}, ""},
		{"explicitly insecure", []string{"--api-insecure"}, ""},
		{"certificate without key", []string{"--api-token-file", tok, "--api-cert-file", "/x.pem"}, "certificate and a key"},
		{"connection cap", []string{"--api-token-file", tok, "--api-max-conns", "0"}, "max connections"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, err := parseFlags(append(slices.Clone(base), c.args...), io.Discard)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.api.Token != o.cfg.APIToken || o.api.Token == "" && !o.api.Insecure {
				t.Fatalf("api config: token set %v, insecure %v", o.api.Token != "", o.api.Insecure)
			}
		})
	}
	var stderr bytes.Buffer
	if code := run(base, &stderr); code != 2 || !strings.Contains(stderr.String(), "no REST API token") {
		t.Fatalf("tenure-agent without a token: exit %d, %q; want 2 and the reason", code, stderr.String())
	}
	o, err := parseFlags(append(slices.Clone(base), "--api-token-file", tok), io.Discard)
	if err != nil || o.cfg.APIToken != "s3cret" {
		t.Fatalf("token read as %q, %v", o.cfg.APIToken, err)
	}
}
