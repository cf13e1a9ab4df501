package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/ha"
	"github.com/tenure-pg/tenure/podagent/pgconf"
)

// MergeConfig applies a JSON merge patch (RFC 7386) to cur: objects merge
// key by key, null deletes (resets a setting to its default, removes a
// parameter), anything else replaces. Unknown settings, wrong types and a
// result that ValidateConfig rejects are ErrBadRequest. cur is not
// modified, so MergeConfig is safe inside a compare-and-swap retry loop.
func MergeConfig(cur leaderelect.Config, patch []byte) (leaderelect.Config, error) {
	obj, err := parsePatch(patch)
	if err != nil {
		return leaderelect.Config{}, err
	}
	next, err := mergeInto(cur, obj)
	if err != nil {
		return leaderelect.Config{}, err
	}
	if err := ValidateConfig(next); err != nil {
		return leaderelect.Config{}, err
	}
	return canonical(next), nil
}

// checkPatch reports whether patch is a well-formed config patch: a JSON
// object of known settings with values of the right types. Whether the
// result is valid depends on the config it is applied to.
func checkPatch(patch []byte) error {
	obj, err := parsePatch(patch)
	if err != nil {
		return err
	}
	_, err = mergeInto(leaderelect.Config{}, obj)
	return err
}

// parsePatch decodes a config patch: an object whose keys are settings.
func parsePatch(patch []byte) (map[string]any, error) {
	p, err := decodeAny(patch)
	if err != nil {
		return nil, err
	}
	obj, ok := p.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: config patch must be a JSON object", ErrBadRequest)
	}
	boolSyncMode(obj)
	known := configKeys()
	for k := range obj {
		if !known[k] {
			return nil, fmt.Errorf("%w: unknown setting %q", ErrBadRequest, k)
		}
	}
	return obj, nil
}

// mergeInto applies patch to cur through their JSON forms, decoding the
// result strictly so wrong types are ErrBadRequest.
func mergeInto(cur leaderelect.Config, patch map[string]any) (leaderelect.Config, error) {
	raw, err := json.Marshal(cur)
	if err != nil {
		return leaderelect.Config{}, fmt.Errorf("encode config: %w", err)
	}
	doc, err := decodeAny(raw)
	if err != nil {
		return leaderelect.Config{}, fmt.Errorf("decode config: %w", err)
	}
	merged, err := json.Marshal(MergePatch(doc, patch))
	if err != nil {
		return leaderelect.Config{}, fmt.Errorf("encode patched config: %w", err)
	}
	var next leaderelect.Config
	if err := decodeStrict(merged, &next, false); err != nil {
		return leaderelect.Config{}, err
	}
	return next, nil
}

// MergePatch returns target with patch applied as RFC 7386 describes.
// Values are as encoding/json decodes them into any; neither argument is
// modified.
func MergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, _ := target.(map[string]any)
	out := make(map[string]any, len(t)+len(p))
	for k, v := range t {
		out[k] = v
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = MergePatch(out[k], v)
	}
	return out
}

// decodeAny decodes one JSON value, keeping numbers exact.
func decodeAny(b []byte) (any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("%w: empty body, want a JSON object", ErrBadRequest)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrBadRequest, oneLine(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: trailing data after the JSON value", ErrBadRequest)
	}
	return v, nil
}

// configKeys are the JSON names of leaderelect.Config's settings.
func configKeys() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeFor[leaderelect.Config]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			keys[name] = true
		}
	}
	return keys
}

// Bounds of the dynamic configuration. The timing rule is Patroni's,
// loop_wait + 2*retry_timeout <= ttl, so a leader whose API call hangs for
// retry_timeout twice in one loop still renews before the lock expires;
// it applies once retry_timeout is set (an unset ttl or loop_wait counts
// as Patroni's default). Without it, loop_wait must stay below ttl. The
// agent's own lease timings come from its flags (TTL 10 s by default), so
// no Patroni floor of 20 s is imposed on these.
const (
	DefaultTTL, MaxTTL = 30, 3600
	DefaultLoopWait    = 10
	// MaxSyncNodeCount bounds synchronous_node_count: every synchronous
	// standby is a WAL sender (max_wal_senders defaults to 10 here), and
	// a commit waits for all of them.
	MaxSyncNodeCount = 32
)

// ValidateConfig rejects settings no cluster can run with and parameters
// the agent cannot render or does not allow (ErrBadRequest, naming the
// setting). It is the check of PATCH and PUT /config and of `tenure
// edit-config`; parameters go through pgconf.ValidateParameters, the
// renderer's own check, so what is accepted always renders.
func ValidateConfig(c leaderelect.Config) error {
	if err := validateTimings(c); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	switch {
	case c.MaximumLagOnFailover < 0:
		return fmt.Errorf("%w: maximum_lag_on_failover must not be negative", ErrBadRequest)
	case c.SynchronousNodeCount < 0 || c.SynchronousNodeCount > MaxSyncNodeCount:
		return fmt.Errorf("%w: synchronous_node_count %d: want 1 to %d", ErrBadRequest, c.SynchronousNodeCount, MaxSyncNodeCount)
	}
	if _, err := ha.ParseSyncMode(c.SynchronousMode); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if err := pgconf.ValidateParameters(c.Parameters); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return nil
}

func validateTimings(c leaderelect.Config) error {
	orDefault := func(v, def int) int {
		if v == 0 {
			return def
		}
		return v
	}
	ttl, wait := orDefault(c.TTLSeconds, DefaultTTL), orDefault(c.LoopWaitSeconds, DefaultLoopWait)
	switch {
	case c.TTLSeconds < 0, c.LoopWaitSeconds < 0, c.RetryTimeoutSeconds < 0:
		return errors.New("ttl, loop_wait and retry_timeout must not be negative")
	case c.TTLSeconds > MaxTTL:
		return fmt.Errorf("ttl %d: at most %d seconds", c.TTLSeconds, MaxTTL)
	case c.TTLSeconds > 0 && c.LoopWaitSeconds >= c.TTLSeconds:
		return fmt.Errorf("loop_wait %d must be shorter than ttl %d", c.LoopWaitSeconds, c.TTLSeconds)
	case c.RetryTimeoutSeconds > 0 && wait+2*c.RetryTimeoutSeconds > ttl:
		return fmt.Errorf("loop_wait %d + 2*retry_timeout %d must not exceed ttl %d", wait, c.RetryTimeoutSeconds, ttl)
	}
	return nil
}

// canonical rewrites what has one canonical spelling: synchronous_mode
// is stored as off, on or strict whatever Patroni spelling it came in as.
func canonical(c leaderelect.Config) leaderelect.Config {
	if m, err := ha.ParseSyncMode(c.SynchronousMode); err == nil && c.SynchronousMode != "" {
		c.SynchronousMode = string(m)
	}
	return c
}

// boolSyncMode maps Patroni's boolean synchronous_mode (a JSON or YAML
// true/false) to the string the configuration stores, in a decoded
// document, before it is decoded strictly.
func boolSyncMode(doc map[string]any) {
	if b, ok := doc["synchronous_mode"].(bool); ok {
		doc["synchronous_mode"] = map[bool]string{true: string(ha.SyncOn), false: string(ha.SyncOff)}[b]
	}
}
