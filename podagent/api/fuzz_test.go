package api

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenure-pg/tenure/leaderelect"
)

// FuzzDecodeSwitchover: a body that decodes re-encodes to one that decodes
// to the same request.
func FuzzDecodeSwitchover(f *testing.F) {
	for _, s := range []string{
		`{"leader":"m1","candidate":"m2"}`, `{"candidate":"m2","scheduled_at":"2030-01-01T00:00:00+02:00"}`,
		`{}`, `null`, `[]`, `{"leader":1}`, `{"leader":"m1"} x`, `{"x":1}`,
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, failover bool) {
		r, err := DecodeSwitchover(body, failover)
		if err != nil {
			if StatusCode(err) != 400 {
				t.Fatalf("decode error of class %d: %v", StatusCode(err), err)
			}
			return
		}
		b := switchoverBody{Leader: r.Leader, Candidate: r.Candidate}
		if !r.ScheduledAt.IsZero() {
			b.ScheduledAt = r.ScheduledAt.Format(time.RFC3339Nano)
		}
		again, _ := json.Marshal(b)
		r2, err := DecodeSwitchover(again, failover)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", again, err)
		}
		if !r2.ScheduledAt.Equal(r.ScheduledAt) {
			t.Fatalf("scheduled_at %v became %v", r.ScheduledAt, r2.ScheduledAt)
		}
		r.ScheduledAt, r2.ScheduledAt = time.Time{}, time.Time{}
		if r != r2 {
			t.Fatalf("round trip %+v != %+v", r, r2)
		}
	})
}

// FuzzDecodeRestart: accepted requests have a known role and a
// non-negative timeout.
func FuzzDecodeRestart(f *testing.F) {
	for _, s := range []string{`{"restart_pending":true,"role":"replica","timeout":"5min"}`, ``, `{"timeout":30}`, `{"timeout":-1}`, `{"role":"x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeRestart(body)
		if err != nil {
			if StatusCode(err) != 400 {
				t.Fatalf("decode error of class %d: %v", StatusCode(err), err)
			}
			return
		}
		switch r.Role {
		case leaderelect.RoleNone, leaderelect.RolePrimary, leaderelect.RoleReplica:
		default:
			t.Fatalf("accepted role %q", r.Role)
		}
		if r.Timeout < 0 {
			t.Fatalf("accepted timeout %v", r.Timeout)
		}
	})
}

// FuzzMergeConfig: an accepted patch gives a valid config, and applying it
// again changes nothing (merge patches are idempotent).
func FuzzMergeConfig(f *testing.F) {
	for _, s := range []string{
		`{"ttl":20}`, `{"parameters":{"work_mem":null,"a":"b"}}`, `{"pause":true,"ttl":null}`,
		`{"loop_wait":40}`, `[]`, `{"bogus":1}`, `{"parameters":null}`, `{"maximum_lag_on_failover":1e3}`,
	} {
		f.Add([]byte(s))
	}
	base := leaderelect.Config{TTLSeconds: 30, LoopWaitSeconds: 10, Parameters: map[string]string{"work_mem": "4MB"}}
	f.Fuzz(func(t *testing.T, patch []byte) {
		once, err := MergeConfig(base, patch)
		if err != nil {
			if StatusCode(err) != 400 {
				t.Fatalf("patch error of class %d: %v", StatusCode(err), err)
			}
			return
		}
		if err := ValidateConfig(once); err != nil {
			t.Fatalf("accepted an invalid result: %v", err)
		}
		twice, err := MergeConfig(once, patch)
		if err != nil {
			t.Fatalf("second application failed: %v", err)
		}
		if diff := cmp.Diff(once, twice); diff != "" {
			t.Fatalf("not idempotent (-once +twice):\n%s", diff)
		}
	})
}

// FuzzDecodeConfig: an accepted config survives a JSON round trip.
func FuzzDecodeConfig(f *testing.F) {
	for _, s := range []string{`{"ttl":30,"loop_wait":10,"parameters":{"a":"b"}}`, `{}`, `{"ttl":"x"}`, `{"pause":true}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := DecodeConfig(body)
		if err != nil {
			return
		}
		raw, _ := json.Marshal(c)
		c2, err := DecodeConfig(raw)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", raw, err)
		}
		if diff := cmp.Diff(c, c2, cmp.Comparer(func(a, b map[string]string) bool { return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b) })); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
