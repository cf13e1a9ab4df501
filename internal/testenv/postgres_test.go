package testenv_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenure-pg/tenure/internal/testenv"
)

func TestPostgresKillAndStart(t *testing.T) {
	t.Parallel()
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{ExtraConf: []string{"application_name = 'testenv'"}})
	if host := net.ParseIP(pg.Addr); host == nil || !host.IsLoopback() || pg.Addr == "127.0.0.1" {
		t.Errorf("postgres Addr = %q, want its own 127.0.0.x", pg.Addr)
	}
	var serverAddr, checksums, appName string
	query(t, pg, "SELECT host(inet_server_addr()), current_setting('data_checksums'), current_setting('application_name')",
		&serverAddr, &checksums, &appName)
	if serverAddr != pg.Addr || checksums != "on" {
		t.Errorf("server addr %s, data_checksums %s; want %s, on", serverAddr, checksums, pg.Addr)
	}

	began := time.Now()
	pg.Kill()
	t.Logf("Kill took %v", time.Since(began))
	if conn, err := pgx.Connect(t.Context(), pg.DSN("postgres")); err == nil {
		conn.Close(context.Background())
		t.Fatal("connect after Kill succeeded, want an error")
	}
	if err := pg.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	var one int
	query(t, pg, "SELECT 1", &one)
	if one != 1 {
		t.Errorf("SELECT 1 = %d after restart", one)
	}
}

func TestPostgresInstancesAreSeparateHosts(t *testing.T) {
	t.Parallel()
	a := testenv.StartPostgres(t, testenv.PostgresOptions{})
	b := testenv.StartPostgres(t, testenv.PostgresOptions{})
	if a.Addr == b.Addr {
		t.Errorf("two instances share address %s", a.Addr)
	}
	var one int
	query(t, b, "SELECT 1", &one)
}

func query(t *testing.T, pg *testenv.Postgres, sql string, dest ...any) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), pg.DSN("postgres"))
	if err != nil {
		t.Fatalf("connect %s: %v", pg.DSN("postgres"), err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(t.Context(), sql).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
