package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenure-pg/tenure/leaderelect"
)

func seededConfig() leaderelect.Config {
	return leaderelect.Config{TTLSeconds: 30, LoopWaitSeconds: 10, SynchronousMode: "on", Parameters: map[string]string{"max_connections": "100"}}
}

func TestEditConfigSet(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		wantOut  []string
		wantErr  string
		wantConf func(c *leaderelect.Config)
	}{
		{"set numbers and parameters", []string{"--set", "ttl=20", "--pg", "work_mem=8MB", "--set", "postgresql.parameters.shared_buffers=1GB"}, 0,
			[]string{"-ttl: 30", "+ttl: 20", "+  work_mem: 8MB", "+  shared_buffers: 1GB", "Configuration changed"}, "",
			func(c *leaderelect.Config) {
				c.TTLSeconds = 20
				c.Parameters = map[string]string{"max_connections": "100", "work_mem": "8MB", "shared_buffers": "1GB"}
			}},
		{"null removes", []string{"--set", "parameters.max_connections=null", "--set", "synchronous_mode=null"}, 0,
			[]string{"-  max_connections: \"100\"", "-synchronous_mode: \"on\""}, "",
			func(c *leaderelect.Config) { c.Parameters, c.SynchronousMode = map[string]string{}, "" }},
		{"plain string value", []string{"--set", "synchronous_mode=off"}, 0, []string{"+synchronous_mode: \"off\""}, "",
			func(c *leaderelect.Config) { c.SynchronousMode = "off" }},
		{"bool value", []string{"--set", "pause=true"}, 0, []string{"+pause: true"}, "",
			func(c *leaderelect.Config) { c.Paused = true }},
		{"no change", []string{"--set", "ttl=30"}, 0, []string{"Not changed"}, "", func(*leaderelect.Config) {}},
		{"invalid result", []string{"--set", "loop_wait=40"}, 1, nil, "loop_wait 40 must be shorter than ttl 30", func(*leaderelect.Config) {}},
		{"unknown setting", []string{"--set", "bogus=1"}, 1, nil, `unknown setting "bogus"`, func(*leaderelect.Config) {}},
		{"wrong type", []string{"--set", "ttl=soon"}, 1, nil, "cannot unmarshal", func(*leaderelect.Config) {}},
		{"no value", []string{"--set", "ttl"}, 2, nil, "want key=value", func(*leaderelect.Config) {}},
		{"conflicting keys", []string{"--set", "ttl=1", "--set", "ttl.x=2"}, 2, nil, "conflicts", func(*leaderelect.Config) {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.seed()
			code, out, errOut := f.run(append([]string{"edit-config", "alpha", "--force"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.wantErr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.wantErr)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out, w+"\n") {
					t.Errorf("output lacks line %q:\n%s", w, out)
				}
			}
			want := seededConfig()
			tc.wantConf(&want)
			if diff := cmp.Diff(want, f.state().Config); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEditConfigAsksFirst(t *testing.T) {
	f := newFixture(t)
	f.seed()
	f.env.stdin = strings.NewReader("no\n")
	code, out, _ := f.run("edit-config", "alpha", "--set", "ttl=20")
	if code != 1 || !strings.Contains(out, "Apply these changes? [y/N]") {
		t.Errorf("exit %d, output %q", code, out)
	}
	if got := f.state().Config.TTLSeconds; got != 30 {
		t.Errorf("ttl %d after declining, want 30", got)
	}
}

func TestEditConfigInEditor(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(f *fixture, text string) string
		code    int
		wantErr string
		wantTTL int
	}{
		{"edited", func(_ *fixture, s string) string { return strings.Replace(s, "ttl: 30", "ttl: 25", 1) }, 0, "", 25},
		{"emptied aborts", func(*fixture, string) string { return "# nothing\n" }, 1, "aborted", 30},
		{"unknown key", func(_ *fixture, s string) string { return s + "bogus: 1\n" }, 1, "unknown field", 30},
		{"changed meanwhile", func(f *fixture, s string) string {
			f.update(func(st *leaderelect.State) error { st.Config.LoopWaitSeconds = 5; return nil })
			return strings.Replace(s, "ttl: 30", "ttl: 25", 1)
		}, 1, "changed while you edited", 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.seed()
			f.env.edit = func(_ context.Context, _ *env, path string) error {
				b, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				if !strings.HasPrefix(string(b), "# Dynamic configuration of cluster alpha.") {
					t.Errorf("editor got %q", b)
				}
				return os.WriteFile(path, []byte(tc.edit(f, string(b))), 0o600)
			}
			code, _, errOut := f.run("edit-config", "alpha", "--force")
			if code != tc.code || !strings.Contains(errOut, tc.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.wantErr)
			}
			if got := f.state().Config.TTLSeconds; got != tc.wantTTL {
				t.Errorf("ttl %d, want %d", got, tc.wantTTL)
			}
		})
	}
}

func TestDiffLines(t *testing.T) {
	got := diffLines(strings.Split("a\nb\nc\n", "\n"), strings.Split("a\nc\nd\n", "\n"))
	if diff := cmp.Diff([]string{" a", "-b", " c", "+d"}, got); diff != "" {
		t.Errorf("diff (-want +got):\n%s", diff)
	}
}
