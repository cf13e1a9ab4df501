package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenure-pg/tenure/podagent/api"
)

const wantList = `+ Cluster: alpha (7268616322854375442) -+---------+----+-----------+-----------------+------------------+
| Member | Host          | Role         | State   | TL | Lag in MB | Pending restart | Tags             |
+--------+---------------+--------------+---------+----+-----------+-----------------+------------------+
| m1     | 10.0.0.1      | Leader       | running |  2 |           |                 |                  |
| m2     | 10.0.0.2      | Sync Standby | running |  2 |        16 | *               |                  |
| m3     | 10.0.0.3:5433 | Replica      | running |  2 |         1 |                 | nofailover: true |
+--------+---------------+--------------+---------+----+-----------+-----------------+------------------+
 Leader lock: m1, epoch 1
`

func TestList(t *testing.T) {
	f := newFixture(t)
	f.seed()
	for _, args := range [][]string{{"list", "alpha"}, {"list", "-c", "alpha"}, {"-c", "alpha", "list"}, {"list", "--cluster=alpha"}} {
		code, out, errOut := f.run(args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		if diff := cmp.Diff(wantList, out); diff != "" {
			t.Errorf("%v output (-want +got):\n%s", args, diff)
		}
	}
}

func TestListFooters(t *testing.T) {
	f := newFixture(t)
	f.seed()
	if code, _, errOut := f.run("pause", "alpha"); code != 0 {
		t.Fatalf("pause: %s", errOut)
	}
	if code, _, errOut := f.run("switchover", "alpha", "--candidate", "m2", "--scheduled", f.now.Add(time.Hour).Format("2006-01-02T15:04:05Z07:00"), "--force"); code != 1 || !strings.Contains(errOut, "paused") {
		t.Fatalf("scheduled switchover while paused: exit %d %s", code, errOut)
	}
	_, out, _ := f.run("list", "alpha")
	if !strings.Contains(out, " Maintenance mode: on\n") {
		t.Errorf("no maintenance footer:\n%s", out)
	}
}

func TestListJSON(t *testing.T) {
	f := newFixture(t)
	f.seed()
	code, out, errOut := f.run("list", "alpha", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got api.Cluster
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	var names, roles []string
	for _, m := range got.Members {
		names, roles = append(names, m.Name), append(roles, m.Role)
	}
	if diff := cmp.Diff([]string{"m1", "m2", "m3"}, names); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"leader", "sync_standby", "replica"}, roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	if got.Leader != "m1" || got.Epoch != 1 || got.SystemIdentifier != "7268616322854375442" {
		t.Errorf("leader %q epoch %d sysid %q", got.Leader, got.Epoch, got.SystemIdentifier)
	}
}

func TestClusterNotFound(t *testing.T) {
	f := newFixture(t)
	f.seed()
	code, _, errOut := f.run("list", "beta")
	if code != 1 || !strings.Contains(errOut, `cluster "beta" not found`) {
		t.Errorf("list beta: exit %d %q", code, errOut)
	}
}

const wantHistory = `+----+-----------+------------------------------+----------------------+------------+
| TL | LSN       | Reason                       | Timestamp            | New Leader |
+----+-----------+------------------------------+----------------------+------------+
|  1 | 0/3000060 | no recovery target specified | 2026-11-23T11:00:00Z | m1         |
+----+-----------+------------------------------+----------------------+------------+
`

func TestHistory(t *testing.T) {
	f := newFixture(t)
	f.seed()
	code, out, errOut := f.run("history", "alpha")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if diff := cmp.Diff(wantHistory, out); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	code, out, _ = f.run("history", "alpha", "-o", "json")
	var got [][]any
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil {
		t.Fatalf("history -o json: exit %d, %v: %s", code, err, out)
	}
	want := [][]any{{1.0, float64(0x3000060), "no recovery target specified", "2026-11-23T11:00:00Z", "m1"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history json (-want +got):\n%s", diff)
	}
}
