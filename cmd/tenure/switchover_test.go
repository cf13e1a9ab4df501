package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenure-pg/tenure/leaderelect"
)

func TestSwitchoverRefused(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"leader is not the holder", []string{"--leader", "m2", "--candidate", "m3"}, "leader name does not match"},
		{"candidate unknown", []string{"--candidate", "m9"}, "sync_standby"},
		{"candidate outside sync set", []string{"--candidate", "m3"}, "sync_standby"},
		{"candidate is the leader", []string{"--candidate", "m1"}, "target and source are the same"},
		{"schedule in the past", []string{"--candidate", "m2", "--scheduled", "2020-01-01T00:00:00Z"}, "in the past"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.seed()
			code, _, errOut := f.run(append([]string{"switchover", "alpha", "--force"}, tc.args...)...)
			if code != 1 || !strings.Contains(errOut, tc.wantErr) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, tc.wantErr)
			}
			if sw := f.state().Switchover; sw != nil {
				t.Errorf("intent recorded: %+v", sw)
			}
		})
	}
}

// agent plays the agents' part: once the intent appears, m1 hands the
// lock to the intent's candidate (or withdraws it, if handOver is false)
// and clears the intent.
func (f *fixture) agent(handOver bool) <-chan error {
	done := make(chan error, 1)
	m1 := f.store("m1")
	go func() {
		deadline := time.Now().Add(10 * time.Second)
		for m1.View().State.Switchover == nil {
			if time.Now().After(deadline) {
				done <- context.DeadlineExceeded
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		if handOver {
			if _, err := m1.HandOver(context.Background(), m1.View().State.Switchover.To); err != nil {
				done <- err
				return
			}
		}
		_, err := m1.Update(context.Background(), func(s *leaderelect.State) error {
			s.Switchover = nil
			return nil
		})
		done <- err
	}()
	return done
}

func TestSwitchoverWaitsForNewLeader(t *testing.T) {
	f := newFixture(t)
	f.seed()
	agent := f.agent(true)
	code, out, errOut := f.run("switchover", "alpha", "--candidate", "m2", "--force", "--wait", "10s")
	if err := <-agent; err != nil {
		t.Fatalf("agent: %v", err)
	}
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, `Successfully switched over to "m2"`) || !strings.Contains(out, "Leader lock: m2, epoch 2") {
		t.Errorf("output:\n%s", out)
	}
}

func TestSwitchoverWithdrawnFails(t *testing.T) {
	f := newFixture(t)
	f.seed()
	agent := f.agent(false)
	code, _, errOut := f.run("switchover", "alpha", "--force", "--wait", "10s")
	if err := <-agent; err != nil {
		t.Fatalf("agent: %v", err)
	}
	if code != 1 || !strings.Contains(errOut, "withdrawn") {
		t.Errorf("exit %d, stderr %q; want 1 and withdrawn", code, errOut)
	}
}

func TestSwitchoverTimesOut(t *testing.T) {
	f := newFixture(t)
	f.seed()
	code, _, errOut := f.run("switchover", "alpha", "--force", "--wait", "200ms")
	if code != 1 || !strings.Contains(errOut, "no new leader yet") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	want := &leaderelect.Switchover{From: "m1"}
	if diff := cmp.Diff(want, f.state().Switchover); diff != "" {
		t.Errorf("intent (-want +got):\n%s", diff)
	}
}

func TestSwitchoverRecordsIntent(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		stdin   string
		code    int
		wantOut string
		want    func(now time.Time) *leaderelect.Switchover
	}{
		{"scheduled", []string{"switchover", "alpha", "--candidate", "m2", "--scheduled", "+1h", "--force"}, "", 0, "Switchover scheduled at",
			func(now time.Time) *leaderelect.Switchover {
				return &leaderelect.Switchover{From: "m1", To: "m2", ScheduledAt: now.Add(time.Hour)}
			}},
		{"failover without waiting", []string{"failover", "alpha", "--candidate", "m2", "--force", "--wait", "0"}, "", 0, "Failover requested",
			func(time.Time) *leaderelect.Switchover { return &leaderelect.Switchover{To: "m2", Failover: true} }},
		{"confirmed on stdin", []string{"switchover", "alpha", "--wait", "0"}, "y\n", 0, "Are you sure you want to switchover cluster alpha, demoting current leader m1? [y/N]",
			func(time.Time) *leaderelect.Switchover { return &leaderelect.Switchover{From: "m1"} }},
		{"declined on stdin", []string{"switchover", "alpha", "--wait", "0"}, "n\n", 1, "",
			func(time.Time) *leaderelect.Switchover { return nil }},
		{"no answer", []string{"switchover", "alpha", "--wait", "0"}, "", 1, "",
			func(time.Time) *leaderelect.Switchover { return nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.seed()
			f.env.stdin = strings.NewReader(tc.stdin)
			for i, a := range tc.args {
				if a == "+1h" {
					tc.args[i] = f.now.Add(time.Hour).Format(time.RFC3339)
				}
			}
			code, out, errOut := f.run(tc.args...)
			if code != tc.code || !strings.Contains(out, tc.wantOut) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d and %q", code, out, errOut, tc.code, tc.wantOut)
			}
			if diff := cmp.Diff(tc.want(f.now), f.state().Switchover); diff != "" {
				t.Errorf("intent (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPauseResume(t *testing.T) {
	f := newFixture(t)
	f.seed()
	steps := []struct {
		cmd        string
		code       int
		wantOut    string
		wantErr    string
		wantPaused bool
	}{
		{"pause", 0, "Success: cluster management is paused", "", true},
		{"pause", 1, "", "already paused", true},
		{"resume", 0, "Success: cluster management is resumed", "", false},
		{"resume", 1, "", "not paused", false},
	}
	for _, s := range steps {
		code, out, errOut := f.run(s.cmd, "alpha")
		if code != s.code || !strings.Contains(out, s.wantOut) || !strings.Contains(errOut, s.wantErr) {
			t.Errorf("%s: exit %d out %q err %q", s.cmd, code, out, errOut)
		}
		if got := f.state().Config.Paused; got != s.wantPaused {
			t.Errorf("after %s: paused %v, want %v", s.cmd, got, s.wantPaused)
		}
	}
}
