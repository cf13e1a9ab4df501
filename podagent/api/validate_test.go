package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/pgconf"
)

// TestPatchConfigRefusesWhatCannotRender is the issue #12 probe: each of
// these was answered 200 and then kept postgres down or ran a command as
// the postgres user. Each is now a 400 that names the setting, and the
// stored configuration is untouched.
func TestPatchConfigRefusesWhatCannotRender(t *testing.T) {
	for _, tc := range []struct{ name, patch, want string }{
		{"archive_command runs a command", `{"parameters":{"archive_mode":"always","archive_command":"touch x-%f"}}`, `"archive_command"`},
		{"archive_mode", `{"parameters":{"archive_mode":"always"}}`, `"archive_mode"`},
		{"restore_command", `{"parameters":{"restore_command":"sh -c id"}}`, `"restore_command"`},
		{"preload outside the allowed list", `{"parameters":{"shared_preload_libraries":"/tmp/x.so"}}`, `"/tmp/x.so"`},
		{"newline in a value", `{"parameters":{"work_mem":"4MB\nport = 1"}}`, `line break`},
		{"name with a directive", `{"parameters":{"x = 1\ninclude":"1"}}`, `not a parameter name`},
		{"agent-owned port", `{"parameters":{"port":"5433"}}`, `"port"`},
		{"agent-owned include_dir", `{"parameters":{"include_dir":"/tmp"}}`, `"include_dir"`},
		{"primary_conninfo", `{"parameters":{"primary_conninfo":"host=evil"}}`, `"primary_conninfo"`},
		{"synchronous_standby_names", `{"parameters":{"synchronous_standby_names":"*"}}`, `"synchronous_standby_names"`},
		{"synchronous_mode typo", `{"synchronous_mode":"garbage"}`, `synchronous_mode "garbage"`},
		{"synchronous_mode quorum (not implemented)", `{"synchronous_mode":"quorum"}`, `synchronous_mode "quorum"`},
		{"synchronous_node_count huge", `{"synchronous_node_count":100000}`, `synchronous_node_count 100000`},
		{"synchronous_node_count negative", `{"synchronous_node_count":-1}`, `synchronous_node_count -1`},
		{"retry_timeout too long for ttl", `{"ttl":30,"loop_wait":10,"retry_timeout":15}`, `must not exceed ttl 30`},
		{"retry_timeout against default ttl", `{"retry_timeout":11}`, `must not exceed ttl 30`},
		{"ttl absurd", `{"ttl":100000}`, `ttl 100000`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, _, cmds := newTestServer(t, primarySnap())
			before := cloneConfig(cmds.cfg)
			code, body := call(t, ts, http.MethodPatch, "/config", testToken, tc.patch)
			if code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
				t.Fatalf("PATCH /config %s = %d %q, want 400 naming %s", tc.patch, code, body, tc.want)
			}
			if !configEqual(before, cmds.cfg) {
				t.Errorf("config changed by a refused patch: %+v", cmds.cfg)
			}
		})
	}
}

// TestSyncModeReadOnce: Patroni's booleans are stored as the agent's
// words, so the agent, the API and the CLI read one value.
func TestSyncModeReadOnce(t *testing.T) {
	for patch, want := range map[string]string{
		`{"synchronous_mode":"true"}`: "on", `{"synchronous_mode":true}`: "on",
		`{"synchronous_mode":false}`: "off", `{"synchronous_mode":"strict"}`: "strict",
	} {
		got, err := MergeConfig(leaderelect.Config{}, []byte(patch))
		if err != nil || got.SynchronousMode != want {
			t.Errorf("MergeConfig(%s) = %q, %v; want %q", patch, got.SynchronousMode, err, want)
		}
	}
	c, err := DecodeConfig([]byte(`{"synchronous_mode":true}`))
	if err != nil || c.SynchronousMode != "on" || !SyncMode(c) {
		t.Errorf("DecodeConfig(boolean true) = %+v, %v", c, err)
	}
	if SyncMode(leaderelect.Config{SynchronousMode: "garbage"}) {
		t.Error("SyncMode reads an unparsable mode as on; the agent reads it as not set")
	}
}

// FuzzPatchRenders: whatever PATCH /config accepts renders, for a
// primary and a standby, with and without agent archiving.
func FuzzPatchRenders(f *testing.F) {
	for _, s := range []string{
		`{"parameters":{"work_mem":"4MB"}}`, `{"parameters":{"archive_command":"touch x-%f"}}`,
		`{"parameters":{"x = 1\ninclude":"1"}}`, `{"parameters":{"a":"it's \\ fine"}}`,
		`{"parameters":{"Port":"1"}}`, `{"parameters":{"shared_preload_libraries":"pg_stat_statements"}}`,
		`{"synchronous_mode":"garbage","synchronous_node_count":100000}`, `{"parameters":{"recovery_target_lsn":"0/1"}}`,
	} {
		f.Add([]byte(s))
	}
	base := leaderelect.Config{TTLSeconds: 30, LoopWaitSeconds: 10, Parameters: map[string]string{"work_mem": "4MB"}}
	f.Fuzz(func(t *testing.T, patch []byte) {
		next, err := MergeConfig(base, patch)
		if err != nil {
			return
		}
		for _, m := range []pgconf.Member{
			{Port: 5432, SocketDir: "/run/pg", ListenAddresses: "*", Parameters: next.Parameters},
			{Port: 5432, SocketDir: "/run/pg", Parameters: next.Parameters, ArchiveCommand: "a %p", RestoreCommand: "r %f %p",
				Standby: &pgconf.Standby{PrimaryConnInfo: "host=x", PrimarySlotName: "pg_1"}},
		} {
			if _, _, err := pgconf.Render(m); err != nil {
				t.Fatalf("accepted %s, but it does not render: %v", patch, err)
			}
		}
	})
}

func configEqual(a, b leaderelect.Config) bool {
	if len(a.Parameters) != len(b.Parameters) {
		return false
	}
	for k, v := range a.Parameters {
		if b.Parameters[k] != v {
			return false
		}
	}
	a.Parameters, b.Parameters = nil, nil
	return a.TTLSeconds == b.TTLSeconds && a.SynchronousMode == b.SynchronousMode && a.SynchronousNodeCount == b.SynchronousNodeCount &&
		a.LoopWaitSeconds == b.LoopWaitSeconds && a.RetryTimeoutSeconds == b.RetryTimeoutSeconds
}
