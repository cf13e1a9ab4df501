package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestEditConfigRefusesWhatCannotRender: issue #12 findings 2 and 3 for
// `tenure edit-config`: the CLI runs the same validator as PATCH /config
// and the renderer, exits 1 naming the setting, and writes nothing.
func TestEditConfigRefusesWhatCannotRender(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--pg", "archive_command=touch x-%f"}, `"archive_command"`},
		{[]string{"--pg", "archive_mode=always"}, `"archive_mode"`},
		{[]string{"--pg", "work_mem=4MB\nport = 1"}, "line break"},
		{[]string{"--pg", "port=5999"}, `"port"`},
		{[]string{"--pg", "include_dir=/tmp"}, `"include_dir"`},
		{[]string{"--pg", "shared_preload_libraries=/tmp/evil.so"}, `"/tmp/evil.so"`},
		{[]string{"--set", "synchronous_mode=garbage"}, `synchronous_mode "garbage"`},
		{[]string{"--set", "synchronous_node_count=100000"}, "synchronous_node_count 100000"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f := newFixture(t)
			f.seed()
			code, _, errOut := f.run(append([]string{"edit-config", "alpha", "--force"}, tc.args...)...)
			if code != exitFail || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d naming %s", code, errOut, exitFail, tc.want)
			}
			if diff := cmp.Diff(seededConfig(), f.state().Config); diff != "" {
				t.Errorf("config changed (-want +got):\n%s", diff)
			}
		})
	}
	f := newFixture(t)
	f.seed()
	f.env.edit = func(_ context.Context, _ *env, path string) error {
		return os.WriteFile(path, []byte("parameters:\n  \"x = 1\\ninclude\": \"1\"\n"), 0o600)
	}
	if code, _, errOut := f.run("edit-config", "alpha", "--force"); code != exitFail || !strings.Contains(errOut, "not a parameter name") {
		t.Errorf("editor with a directive in a name: exit %d, %q", code, errOut)
	}
	if code, _, errOut := f.run("edit-config", "alpha", "--force", "--set", "synchronous_mode=true"); code != exitOK || f.state().Config.SynchronousMode != "on" {
		t.Errorf(`synchronous_mode=true: exit %d %q, stored %q; want "on"`, code, errOut, f.state().Config.SynchronousMode)
	}
}

// TestTokenDiscovery: the CLI (and kubectl tenure, the same binary)
// finds the agents' token in --token-file, $TENURE_API_TOKEN,
// $TENURE_API_TOKEN_FILE and ~/.config/tenure/token, in that order.
func TestTokenDiscovery(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flagFile, envFile := write("flag", "from-flag\n"), write("env", "from-env-file\n")
	write("home/.config/tenure/token", "from-home\n")
	for _, tc := range []struct {
		name, flag string
		env        map[string]string
		want       string
	}{
		{"flag first", flagFile, map[string]string{"TENURE_API_TOKEN": "from-env", "HOME": filepath.Join(dir, "home")}, "from-flag"},
		{"env token", "", map[string]string{"TENURE_API_TOKEN": "from-env", "TENURE_API_TOKEN_FILE": envFile}, "from-env"},
		{"env file", "", map[string]string{"TENURE_API_TOKEN_FILE": envFile, "HOME": filepath.Join(dir, "home")}, "from-env-file"},
		{"home file", "", map[string]string{"HOME": filepath.Join(dir, "home")}, "from-home"},
		{"none", "", map[string]string{"HOME": filepath.Join(dir, "nowhere")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &cli{env: env{getenv: func(k string) string { return tc.env[k] }}}
			got, err := c.apiToken(tc.flag)
			if err != nil || got != tc.want {
				t.Errorf("apiToken = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	c := &cli{env: env{getenv: func(string) string { return "" }}}
	if _, err := c.apiToken(write("empty", "\n")); err == nil {
		t.Error("an empty --token-file was accepted")
	}
	if _, err := c.apiToken(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing --token-file was accepted")
	}
}

// TestRestartFindsTokenInEnv: `tenure restart` with the token only in
// the environment succeeds against an agent that requires it.
func TestRestartFindsTokenInEnv(t *testing.T) {
	f := newFixture(t)
	f.seed()
	f.serveMember("tok")
	if code, out, _ := f.run("restart", "alpha", "m2", "--force"); code != exitFail || !strings.Contains(out, "no API token found") {
		t.Errorf("without a token: exit %d, %q", code, out)
	}
	f.envVars["TENURE_API_TOKEN"] = "tok"
	if code, out, errOut := f.run("restart", "alpha", "m2", "--force"); code != exitOK {
		t.Errorf("token in TENURE_API_TOKEN: exit %d, %q %q", code, out, errOut)
	}
}
