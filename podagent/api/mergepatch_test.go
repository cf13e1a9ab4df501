package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenure-pg/tenure/leaderelect"
)

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	v, err := decodeAny([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

// TestMergePatchRFC7386 runs the examples of RFC 7386, Appendix A.
func TestMergePatchRFC7386(t *testing.T) {
	tests := []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"e":null,"a":1}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.target+"+"+tc.patch, func(t *testing.T) {
			target := mustJSON(t, tc.target)
			before, _ := json.Marshal(target)
			got := MergePatch(target, mustJSON(t, tc.patch))
			if diff := cmp.Diff(mustJSON(t, tc.want), got); diff != "" {
				t.Errorf("MergePatch (-want +got):\n%s", diff)
			}
			if after, _ := json.Marshal(target); string(after) != string(before) {
				t.Errorf("target modified: %s -> %s", before, after)
			}
		})
	}
}

func TestPatchConfig(t *testing.T) {
	base := leaderelect.Config{
		TTLSeconds: 30, LoopWaitSeconds: 10, MaximumLagOnFailover: 1 << 20,
		Parameters: map[string]string{"max_connections": "100", "work_mem": "4MB"},
	}
	tests := []struct {
		name  string
		patch string
		want  leaderelect.Config
		code  int
	}{
		{"set a setting", `{"ttl":40}`,
			leaderelect.Config{TTLSeconds: 40, LoopWaitSeconds: 10, MaximumLagOnFailover: 1 << 20, Parameters: base.Parameters}, 200},
		{"null resets a setting", `{"maximum_lag_on_failover":null}`,
			leaderelect.Config{TTLSeconds: 30, LoopWaitSeconds: 10, Parameters: base.Parameters}, 200},
		{"parameters merge key by key", `{"parameters":{"work_mem":null,"shared_buffers":"1GB"}}`,
			leaderelect.Config{TTLSeconds: 30, LoopWaitSeconds: 10, MaximumLagOnFailover: 1 << 20,
				Parameters: map[string]string{"max_connections": "100", "shared_buffers": "1GB"}}, 200},
		{"pause", `{"pause":true}`,
			leaderelect.Config{TTLSeconds: 30, LoopWaitSeconds: 10, MaximumLagOnFailover: 1 << 20, Paused: true, Parameters: base.Parameters}, 200},
		{"big number stays exact", `{"maximum_lag_on_failover":9007199254740993}`,
			leaderelect.Config{TTLSeconds: 30, LoopWaitSeconds: 10, MaximumLagOnFailover: 9007199254740993, Parameters: base.Parameters}, 200},
		{"result invalid against current ttl", `{"loop_wait":30}`, base, 400},
		{"empty patch changes nothing", `{}`, base, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, _, cmds := newTestServer(t, primarySnap())
			cmds.cfg = cloneConfig(base)
			code, body := call(t, ts, http.MethodPatch, "/config", testToken, tc.patch)
			if code != tc.code {
				t.Fatalf("PATCH /config = %d %s, want %d", code, body, tc.code)
			}
			if diff := cmp.Diff(tc.want, cmds.cfg); diff != "" {
				t.Errorf("config after patch (-want +got):\n%s", diff)
			}
			if code != 200 {
				return
			}
			var got leaderelect.Config
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("answer is not a config: %v: %s", err, body)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPutConfigReplaces(t *testing.T) {
	ts, _, cmds := newTestServer(t, primarySnap())
	cmds.cfg = leaderelect.Config{TTLSeconds: 30, Parameters: map[string]string{"work_mem": "4MB"}}
	code, body := call(t, ts, http.MethodPut, "/config", testToken, `{"ttl":20,"loop_wait":4,"retry_timeout":8}`)
	if code != 200 {
		t.Fatalf("PUT /config = %d %s", code, body)
	}
	if diff := cmp.Diff(leaderelect.Config{TTLSeconds: 20, LoopWaitSeconds: 4, RetryTimeoutSeconds: 8}, cmds.cfg); diff != "" {
		t.Errorf("config after put (-want +got):\n%s", diff)
	}
}

func TestGetConfig(t *testing.T) {
	ts, src, _ := newTestServer(t, primarySnap())
	code, body := call(t, ts, http.MethodGet, "/config", "", "")
	if code != 200 || !strings.Contains(body, `"synchronous_mode":"on"`) {
		t.Errorf("GET /config = %d %s", code, body)
	}
	s := primarySnap()
	s.View.StateExists = false
	src.set(s)
	if code, _ := call(t, ts, http.MethodGet, "/config", "", ""); code != http.StatusBadGateway {
		t.Errorf("GET /config before the cluster record exists = %d, want 502", code)
	}
}
