package pgctl

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestRewindImpossible(t *testing.T) {
	cases := []struct {
		out  string
		want bool
	}{
		{"pg_rewind: error: could not find common ancestor of the source and target cluster's timelines", true},
		{"pg_rewind: fatal: source and target clusters are from different systems", true},
		{`pg_rewind: error: target server needs to use either data checksums or "wal_log_hints = on"`, true},
		{"pg_rewind: error: could not find previous WAL record at 0/3000028", true},
		{`pg_rewind: error: could not open file "/data/pg_wal/000000010000000000000002": No such file or directory`, true},
		{`pg_rewind: error: could not restore file "000000010000000000000002" from archive`, true},
		{"pg_rewind: error: target server must be shut down cleanly", false},
		{`pg_rewind: error: connection to server at "127.0.0.2", port 5432 failed: Connection refused`, false},
		{`pg_rewind: error: could not open file "/data/global/pg_control": Permission denied`, false},
	}
	for _, c := range cases {
		if got := rewindImpossible(c.out); got != c.want {
			t.Errorf("rewindImpossible(%q) = %v, want %v", c.out, got, c.want)
		}
	}
}

// The server-side half of this check is in TestLifecycle: a SCRAM login
// with the password succeeds only if the verifier is right.
func TestSCRAMVerifierFormat(t *testing.T) {
	salt := []byte("0123456789abcdef")
	v, err := scramVerifier("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.FieldsFunc(v, func(r rune) bool { return r == '$' || r == ':' })
	if len(parts) != 5 || parts[0] != "SCRAM-SHA-256" || parts[1] != "4096" || parts[2] != base64.StdEncoding.EncodeToString(salt) {
		t.Fatalf("verifier %q: want SCRAM-SHA-256$4096:<salt>$<stored>:<server>", v)
	}
	again, _ := scramVerifier("pencil", salt, 4096)
	other, _ := scramVerifier("pencil2", salt, 4096)
	if again != v || other == v {
		t.Error("verifier is not a function of password and salt")
	}
}

func TestRoleStatement(t *testing.T) {
	cases := []struct {
		name, password      string
		replication, exists bool
		want                string // prefix
		notContains         string
	}{
		{"replicator", "", true, false, `CREATE ROLE "replicator" LOGIN REPLICATION`, "PASSWORD"},
		{`we"ird`, "", false, true, `ALTER ROLE "we""ird" LOGIN`, "REPLICATION"},
		{"app", "hunter2", false, false, `CREATE ROLE "app" LOGIN PASSWORD E'SCRAM-SHA-256$4096:`, "hunter2"},
		{"app", `pässwörd'\`, false, true, `ALTER ROLE "app" LOGIN PASSWORD E'pässwörd''\\'`, "SCRAM"},
	}
	for _, c := range cases {
		got, err := roleStatement(c.name, c.password, c.replication, c.exists)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(got, c.want) || strings.Contains(got, c.notContains) {
			t.Errorf("roleStatement(%q, %q) = %s; want prefix %s, without %q", c.name, c.password, got, c.want, c.notContains)
		}
	}
}

func TestLastLines(t *testing.T) {
	if got := lastLines("a\nb\nc\n", 2); got != "b\nc" {
		t.Errorf("lastLines = %q", got)
	}
	if got := lastLines("a", 5); got != "a" {
		t.Errorf("lastLines = %q", got)
	}
}
