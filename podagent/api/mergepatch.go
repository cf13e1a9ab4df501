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
	return next, nil
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

// ValidateConfig rejects settings no cluster can run with (ErrBadRequest).
// Zero means "default" for every number.
func ValidateConfig(c leaderelect.Config) error {
	switch {
	case c.TTLSeconds < 0, c.LoopWaitSeconds < 0, c.RetryTimeoutSeconds < 0:
		return fmt.Errorf("%w: ttl, loop_wait and retry_timeout must not be negative", ErrBadRequest)
	case c.TTLSeconds > 0 && c.LoopWaitSeconds >= c.TTLSeconds:
		return fmt.Errorf("%w: loop_wait %d must be shorter than ttl %d", ErrBadRequest, c.LoopWaitSeconds, c.TTLSeconds)
	case c.MaximumLagOnFailover < 0:
		return fmt.Errorf("%w: maximum_lag_on_failover must not be negative", ErrBadRequest)
	case c.SynchronousNodeCount < 0:
		return fmt.Errorf("%w: synchronous_node_count must not be negative", ErrBadRequest)
	}
	for name := range c.Parameters {
		if strings.TrimSpace(name) == "" {
			return fmt.Errorf("%w: empty parameter name", ErrBadRequest)
		}
	}
	return nil
}
