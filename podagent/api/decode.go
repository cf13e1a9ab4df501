package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tenure-pg/tenure/leaderelect"
)

// MaxBodyBytes bounds every request body. The largest legitimate one, a
// full dynamic configuration, is a few kilobytes.
const MaxBodyBytes = 64 << 10

// decodeStrict decodes one JSON value from body into v: unknown fields,
// trailing data and bodies over MaxBodyBytes are errors (ErrBadRequest),
// as is an empty body unless optional.
func decodeStrict(body []byte, v any, optional bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return fmt.Errorf("%w: empty body, want a JSON object", ErrBadRequest)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %s", ErrBadRequest, oneLine(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: trailing data after the JSON object", ErrBadRequest)
	}
	return nil
}

// readBody reads at most MaxBodyBytes of r.
func readBody(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read body: %s", ErrBadRequest, oneLine(err))
	}
	if len(b) > MaxBodyBytes {
		return nil, fmt.Errorf("%w: body larger than %d bytes", ErrBadRequest, MaxBodyBytes)
	}
	return b, nil
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// switchoverBody is the JSON of POST /switchover and /failover.
type switchoverBody struct {
	Leader      string `json:"leader"`
	Candidate   string `json:"candidate"`
	ScheduledAt string `json:"scheduled_at"`
}

// DecodeSwitchover decodes a POST /switchover (failover false) or
// /failover body. scheduled_at is RFC 3339 with a zone, as Patroni
// requires a timezone.
func DecodeSwitchover(body []byte, failover bool) (SwitchoverRequest, error) {
	var b switchoverBody
	if err := decodeStrict(body, &b, false); err != nil {
		return SwitchoverRequest{}, err
	}
	r := SwitchoverRequest{Leader: b.Leader, Candidate: b.Candidate, Failover: failover}
	for _, n := range []string{r.Leader, r.Candidate} {
		if n == "" {
			continue
		}
		if err := leaderelect.ValidateName("member", n); err != nil {
			return SwitchoverRequest{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
	}
	if b.ScheduledAt != "" {
		t, err := time.Parse(time.RFC3339, b.ScheduledAt)
		if err != nil {
			return SwitchoverRequest{}, fmt.Errorf("%w: scheduled_at %q: want RFC 3339 with a timezone, e.g. 2026-04-14T20:27:00+00:00", ErrBadRequest, b.ScheduledAt)
		}
		r.ScheduledAt = t
	}
	return r, nil
}

// restartBody is the JSON of POST /restart. timeout is seconds, as a
// number or a string with a unit ("30s", "5min"), as Patroni.
type restartBody struct {
	RestartPending bool            `json:"restart_pending"`
	Role           string          `json:"role"`
	Timeout        json.RawMessage `json:"timeout"`
}

// DecodeRestart decodes a POST /restart body (which may be empty).
// Patroni's "schedule" and "postgres_version" filters are not supported
// and rejected like any unknown field.
func DecodeRestart(body []byte) (RestartRequest, error) {
	var b restartBody
	if err := decodeStrict(body, &b, true); err != nil {
		return RestartRequest{}, err
	}
	r := RestartRequest{PendingOnly: b.RestartPending, Role: leaderelect.Role(b.Role)}
	switch r.Role {
	case leaderelect.RoleNone, leaderelect.RolePrimary, leaderelect.RoleReplica:
	default:
		return RestartRequest{}, fmt.Errorf("%w: role %q: PostgreSQL role should be either primary or replica", ErrBadRequest, b.Role)
	}
	if len(b.Timeout) > 0 && string(b.Timeout) != "null" {
		d, err := decodeTimeout(b.Timeout)
		if err != nil {
			return RestartRequest{}, err
		}
		r.Timeout = d
	}
	return r, nil
}

func decodeTimeout(raw json.RawMessage) (time.Duration, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		s = string(raw) // a JSON number: seconds
	}
	d, err := parseSeconds(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%w: timeout %s: should be a positive number of seconds", ErrBadRequest, raw)
	}
	return d, nil
}

// reinitBody is the JSON of POST /reinitialize.
type reinitBody struct {
	Force bool `json:"force"`
}

// DecodeReinitialize decodes a POST /reinitialize body (which may be
// empty) and returns its force flag.
func DecodeReinitialize(body []byte) (bool, error) {
	var b reinitBody
	if err := decodeStrict(body, &b, true); err != nil {
		return false, err
	}
	return b.Force, nil
}

// DecodeConfig decodes a full dynamic configuration (PUT /config).
// Patroni's boolean synchronous_mode is accepted and stored as off or on.
func DecodeConfig(body []byte) (leaderelect.Config, error) {
	if doc, err := decodeAny(body); err == nil {
		if obj, ok := doc.(map[string]any); ok {
			boolSyncMode(obj)
			body, _ = json.Marshal(obj)
		}
	}
	var c leaderelect.Config
	if err := decodeStrict(body, &c, false); err != nil {
		return leaderelect.Config{}, err
	}
	if err := ValidateConfig(c); err != nil {
		return leaderelect.Config{}, err
	}
	return canonical(c), nil
}
