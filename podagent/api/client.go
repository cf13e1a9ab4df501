package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxResponseBytes bounds what a client reads of a member's answer.
const maxResponseBytes = 1 << 20

// StatusError is a non-2xx answer from a member's API. It unwraps to the
// error class of its code (ErrPrecondition for 412...), so callers branch
// with errors.Is as they do on the server side.
type StatusError struct {
	Code    int
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Code, http.StatusText(e.Code), e.Message)
}

// Unwrap returns the error class of the code, or nil.
func (e *StatusError) Unwrap() error { return classOf(e.Code) }

// Client calls one member's API. BaseURL is the member's api_url, with or
// without Patroni's trailing "/patroni".
type Client struct {
	HTTP    *http.Client
	BaseURL string
	// Token is sent as a bearer token on commands when set.
	Token string
}

// Fetch reads GET /patroni of the member at baseURL: what peers rank
// failover candidates by.
func Fetch(ctx context.Context, client *http.Client, baseURL string) (Status, error) {
	return Client{HTTP: client, BaseURL: baseURL}.Status(ctx)
}

// Status reads GET /patroni.
func (c Client) Status(ctx context.Context) (Status, error) {
	var st Status
	body, err := c.do(ctx, http.MethodGet, "/patroni", nil)
	if err != nil {
		return Status{}, err
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return Status{}, fmt.Errorf("status of %s: decode: %w", c.BaseURL, err)
	}
	return st, nil
}

// Restart asks the member to restart postgres and returns its answer.
func (c Client) Restart(ctx context.Context, r RestartRequest) (string, error) {
	body := map[string]any{}
	if r.PendingOnly {
		body["restart_pending"] = true
	}
	if r.Role != "" {
		body["role"] = string(r.Role)
	}
	if r.Timeout > 0 {
		body["timeout"] = int64(r.Timeout.Seconds())
	}
	return c.command(ctx, "/restart", body)
}

// Reinitialize asks the member to wipe and re-clone its data.
func (c Client) Reinitialize(ctx context.Context, force bool) (string, error) {
	return c.command(ctx, "/reinitialize", map[string]any{"force": force})
}

func (c Client) command(ctx context.Context, path string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("%s %s: encode: %w", c.BaseURL, path, err)
	}
	out, err := c.do(ctx, http.MethodPost, path, b)
	return strings.TrimSpace(string(out)), err
}

// do sends one request and returns the body of a 2xx answer; any other
// answer is a *StatusError.
func (c Client) do(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	url := strings.TrimSuffix(strings.TrimSuffix(c.BaseURL, "/"), "/patroni") + path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" && method != http.MethodGet {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, url, err)
	}
	if resp.StatusCode/100 != 2 {
		return out, fmt.Errorf("%s %s: %w", method, url, &StatusError{Code: resp.StatusCode, Message: strings.TrimSpace(string(out))})
	}
	return out, nil
}
