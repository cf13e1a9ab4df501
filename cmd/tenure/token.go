package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// tokenHint is where the CLI looks for the agents' REST API token, for
// messages.
const tokenHint = "pass --token-file, or set TENURE_API_TOKEN or TENURE_API_TOKEN_FILE, or put it in ~/.config/tenure/token"

// apiToken finds the agents' bearer token; the first place that has one
// wins: --token-file, $TENURE_API_TOKEN, $TENURE_API_TOKEN_FILE, then
// $XDG_CONFIG_HOME/tenure/token (~/.config/tenure/token). A file named
// explicitly must exist and hold a token; the default file may be
// missing. No token is "" (the agent then answers 401 and the message
// says where to put one). The same binary is `kubectl tenure`, so both
// find it the same way.
func (c *cli) apiToken(flagFile string) (string, error) {
	if flagFile != "" {
		return readToken("--token-file", flagFile)
	}
	if tok := strings.TrimSpace(c.getenv("TENURE_API_TOKEN")); tok != "" {
		return tok, nil
	}
	if f := c.getenv("TENURE_API_TOKEN_FILE"); f != "" {
		return readToken("TENURE_API_TOKEN_FILE", f)
	}
	dir := c.getenv("XDG_CONFIG_HOME")
	if dir == "" && c.getenv("HOME") != "" {
		dir = filepath.Join(c.getenv("HOME"), ".config")
	}
	if dir == "" {
		return "", nil
	}
	tok, err := readToken("token file", filepath.Join(dir, "tenure", "token"))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	return tok, err
}

func readToken(what, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("%s %s is empty", what, path)
	}
	return tok, nil
}

// apiClient is the HTTP client for the agents' REST APIs: c.http, or one
// that verifies https agents against caFile (--ca-file,
// $TENURE_API_CA_FILE) when given.
func (c *cli) apiClient(caFile string) (*http.Client, error) {
	if caFile == "" {
		caFile = c.getenv("TENURE_API_CA_FILE")
	}
	hc := c.http
	if hc == nil {
		hc = http.DefaultClient
	}
	if caFile == "" {
		return hc, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("ca file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca file %s: no PEM certificate", caFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	return &http.Client{Transport: tr, Timeout: hc.Timeout}, nil
}
