package pgconf

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// member is a valid primary; tests change what they are about.
func member(change ...func(*Member)) Member {
	m := Member{
		ListenAddresses: "*",
		Port:            5432,
		SocketDir:       "/var/run/postgresql",
		Superuser:       "postgres",
		ReplicationUser: "standby",
	}
	for _, c := range change {
		c(&m)
	}
	return m
}

func asStandby(m *Member) {
	m.Standby = &Standby{
		PrimaryConnInfo: "host=db-0.db-pods port=5432 user=standby password='s3cr''t' application_name=db-1",
		PrimarySlotName: "db_1",
	}
}

func TestRenderGolden(t *testing.T) {
	cases := map[string]Member{
		"primary": member(),
		"primary_params": member(func(m *Member) {
			m.Parameters = map[string]string{
				"shared_buffers":                "256MB",
				"Max_Connections":               "200",
				"log_line_prefix":               "%m [%p] %q%u@%d ",
				"auto_explain.log_min_duration": "1s",
				"search_path":                   `"$user", public`,
				"application_name":              `it's a \ test`,
			}
			m.SyncStandbyNames = `ANY 1 ("db-1","db-2")`
			m.ArchiveCommand = "tenure-agent wal-push %p"
			m.RestoreCommand = "tenure-agent wal-fetch %f %p"
			m.HBA = []string{"hostssl all all 10.0.0.0/8 scram-sha-256", "  ", "host all bad 0.0.0.0/0 reject"}
		}),
		"standby": member(asStandby, func(m *Member) {
			m.Standby.RestoreCommand = "tenure-agent wal-fetch %f %p"
			m.Standby.RecoveryTargetTimeline = "current"
		}),
		"test_loopback": member(asStandby, func(m *Member) {
			m.ListenAddresses, m.Port, m.SocketDir = "127.0.0.7", 40123, "/tmp/tenure-x"
			m.TrustLoopback = true
			m.Superuser, m.ReplicationUser = "", ""
		}),
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			conf, hba, err := Render(m)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".conf.golden", conf)
			golden(t, name+".hba.golden", hba)
			again, againHBA, _ := Render(m)
			if !bytes.Equal(conf, again) || !bytes.Equal(hba, againHBA) {
				t.Error("Render is not deterministic")
			}
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it); got:\n%s", path, got)
	}
}

// TestRenderReadsBack checks that every rendered setting reads back, with
// PostgreSQL's quoting rules, as the value it came from.
func TestRenderReadsBack(t *testing.T) {
	params := map[string]string{"application_name": `it's a \ test`, "work_mem": "64MB", "x.y": `'\'\\''`}
	conf, _, err := Render(member(asStandby, func(m *Member) { m.Parameters = params }))
	if err != nil {
		t.Fatal(err)
	}
	got := parseSettings(string(conf))
	for name, want := range params {
		if got[name] != want {
			t.Errorf("%s reads back as %q, want %q", name, got[name], want)
		}
	}
	if got["primary_conninfo"] != "host=db-0.db-pods port=5432 user=standby password='s3cr''t' application_name=db-1" {
		t.Errorf("primary_conninfo reads back as %q", got["primary_conninfo"])
	}
	if got["wal_log_hints"] != "on" || got["recovery_target_timeline"] != "latest" {
		t.Errorf("defaults missing: wal_log_hints=%q recovery_target_timeline=%q", got["wal_log_hints"], got["recovery_target_timeline"])
	}
}
