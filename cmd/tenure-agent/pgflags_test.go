package main

import (
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPostgresEnvDefaults: the image sets TENURE_PG_PARAMS (pg_stat_statements
// preloaded) and the chaos tests TENURE_PG_HBA; flags still win.
func TestPostgresEnvDefaults(t *testing.T) {
	base := []string{"--cluster", "pg", "--name", "pg-0", "--data-dir", "/tmp/x", "--pod-ip", "127.0.0.1", "--api-insecure"}
	t.Setenv("TENURE_PG_PARAMS", "shared_preload_libraries=pg_stat_statements")
	t.Setenv("TENURE_PG_HBA", "host all all 172.16.0.0/12 trust; ;host replication all 172.16.0.0/12 trust")
	o, err := parseFlags(base, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"shared_preload_libraries": "pg_stat_statements"}, o.cfg.Parameters); diff != "" {
		t.Errorf("parameters from env (-want +got):\n%s", diff)
	}
	wantHBA := []string{"host all all 172.16.0.0/12 trust", "host replication all 172.16.0.0/12 trust"}
	if diff := cmp.Diff(wantHBA, o.cfg.HBA); diff != "" {
		t.Errorf("hba from env (-want +got):\n%s", diff)
	}
	o, err = parseFlags(append(base, "--pg-params", "work_mem=8MB", "--pg-hba", ""), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"work_mem": "8MB"}, o.cfg.Parameters); diff != "" {
		t.Errorf("flag over env (-want +got):\n%s", diff)
	}
	if len(o.cfg.HBA) != 0 {
		t.Errorf("--pg-hba '' kept %q", o.cfg.HBA)
	}
}
