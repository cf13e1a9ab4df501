package pgconf

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	params := func(kv ...string) func(*Member) {
		return func(m *Member) {
			m.Parameters = map[string]string{}
			for i := 0; i < len(kv); i += 2 {
				m.Parameters[kv[i]] = kv[i+1]
			}
		}
	}
	cases := []struct {
		name    string
		m       Member
		wantErr string // substring; empty means valid
	}{
		{"primary", member(), ""},
		{"standby", member(asStandby), ""},
		{"archive-only standby", member(func(m *Member) { m.Standby = &Standby{RestoreCommand: "cp /a/%f %p"} }), ""},
		{"extension parameter", member(params("auto_explain.log_min_duration", "1s")), ""},
		{"archive_command refused even without agent archiving", member(params("archive_command", "cp %p /a/%f")), `"archive_command" cannot be set`},
		{"archive_mode refused", member(params("archive_mode", "always")), `"archive_mode" cannot be set`},
		{"restore_command refused", member(params("restore_command", "cp /a/%f %p")), `"restore_command" cannot be set`},
		{"archive_library refused", member(params("archive_library", "basic_archive")), `"archive_library" cannot be set`},
		{"recovery targets refused", member(params("recovery_target_time", "2026-01-01")), `"recovery_target_time" cannot be set`},
		{"ssl files refused", member(params("ssl_key_file", "/etc/passwd")), `"ssl_key_file" cannot be set`},
		{"socket permissions refused", member(params("unix_socket_permissions", "0777")), `"unix_socket_permissions" cannot be set`},
		{"include_dir refused", member(params("INCLUDE_DIR", "/tmp")), `"INCLUDE_DIR" cannot be set`},
		{"preload allowed library", member(params("shared_preload_libraries", `pg_stat_statements, "auto_explain"`)), ""},
		{"preload unknown library", member(params("shared_preload_libraries", "pg_stat_statements,/tmp/evil")), `library "/tmp/evil" is not among the allowed`},
		{"wal_level minimal stops a server with senders", member(params("wal_level", "minimal")), `"wal_level": "minimal", want one of replica, logical`},
		{"wal_level logical", member(params("wal_level", "logical")), ""},
		{"name with an include line", member(params("x = 1\ninclude", "1")), `not a parameter name`},
		{"port owned", member(params("port", "5433")), `parameter "port" cannot be set in the cluster`},
		{"owned ignores case", member(params("Listen_Addresses", "*")), `parameter "Listen_Addresses" cannot be set in the cluster`},
		{"primary_conninfo owned", member(params("primary_conninfo", "host=x")), `"primary_conninfo" cannot be set`},
		{"synchronous_standby_names owned", member(params("synchronous_standby_names", "*")), `"synchronous_standby_names" cannot be set`},
		{"include directive", member(params("include", "x.conf")), `"include" cannot be set`},
		{"data_directory owned", member(params("data_directory", "/x")), `"data_directory" cannot be set`},
		{"archive_command owned while archiving", member(params("archive_command", "x"), func(m *Member) { m.ArchiveCommand = "y" }), `"archive_command" cannot be set`},
		{"bad name", member(params("shared buffers", "1")), `parameter "shared buffers": not a parameter name`},
		{"name starts with digit", member(params("1x", "1")), `not a parameter name`},
		{"two dots", member(params("a.b.c", "1")), `not a parameter name`},
		{"empty name", member(params("", "1")), `not a parameter name`},
		{"duplicate by case", member(params("work_mem", "1MB", "WORK_MEM", "2MB")), `given twice`},
		{"newline in value", member(params("work_mem", "1MB\nport = 1")), `parameter "work_mem": value contains a line break`},
		{"NUL in value", member(params("work_mem", "1\x00")), `line break or NUL`},
		{"port zero", member(func(m *Member) { m.Port = 0 }), "port 0 out of range"},
		{"port too big", member(func(m *Member) { m.Port = 70000 }), "port 70000 out of range"},
		{"relative socket dir", member(func(m *Member) { m.SocketDir = "run" }), "socket dir"},
		{"socket dir list", member(func(m *Member) { m.SocketDir = "/a,/b" }), "socket dir"},
		{"standby without source", member(func(m *Member) { m.Standby = &Standby{} }), "needs a primary conninfo or a restore command"},
		{"bad slot name", member(asStandby, func(m *Member) { m.Standby.PrimarySlotName = "db-1" }), `primary slot name "db-1"`},
		{"conninfo newline, value not echoed", member(asStandby, func(m *Member) { m.Standby.PrimaryConnInfo = "password=hunter2\n" }), "primary conninfo contains a line break"},
		{"hba newline", member(func(m *Member) { m.HBA = []string{"host all all all trust\nlocal all all trust"} }), "hba line 1"},
		{"quote in role", member(func(m *Member) { m.ReplicationUser = `a"b` }), `replication user "a\"b"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.m.Validate()
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("Validate: %v, want nil", err)
			case c.wantErr == "":
				return
			case err == nil:
				t.Fatalf("Validate: nil, want error containing %q", c.wantErr)
			case !strings.Contains(err.Error(), c.wantErr) || !errors.Is(err, ErrInvalid):
				t.Fatalf("Validate: %v, want ErrInvalid containing %q", err, c.wantErr)
			case strings.Contains(err.Error(), "hunter2"):
				t.Fatalf("Validate leaks the conninfo: %v", err)
			}
			if _, _, rerr := Render(c.m); rerr == nil {
				t.Error("Render accepted a member Validate rejects")
			}
		})
	}
}

func TestIsOwnedAndDefaults(t *testing.T) {
	if !IsOwned("PORT") || IsOwned("work_mem") || IsOwned("archive_command") {
		t.Error("IsOwned: want PORT owned, work_mem and archive_command not")
	}
	d := Defaults()
	d["wal_level"] = "logical"
	if Defaults()["wal_level"] != "replica" {
		t.Error("Defaults returns the package's own map")
	}
}
