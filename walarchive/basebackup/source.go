package basebackup

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// connect opens a physical replication connection: the walsender accepts
// BASE_BACKUP, IDENTIFY_SYSTEM, SHOW and slot commands on it, no SQL.
func connect(ctx context.Context, dsn string) (*pgconn.PgConn, error) {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("backup: parse dsn: %w", err)
	}
	cfg.RuntimeParams["replication"] = "true"
	cfg.RuntimeParams["application_name"] = "tenure-basebackup"
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("backup: connect to %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	return conn, nil
}

// source is what the backup records about the server.
type source struct {
	SystemID    string
	VersionNum  int // server_version_num
	SegmentSize uint64
	InRecovery  bool
}

// Major is the major version (15 for 150014).
func (s source) Major() int { return s.VersionNum / 10000 }

func identify(ctx context.Context, conn *pgconn.PgConn) (source, error) {
	var s source
	rows, err := query(ctx, conn, "IDENTIFY_SYSTEM")
	if err != nil {
		return s, err
	}
	if len(rows) != 1 || len(rows[0]) < 1 {
		return s, fmt.Errorf("backup: IDENTIFY_SYSTEM: %w: %d rows", ErrProtocol, len(rows))
	}
	s.SystemID = rows[0][0]
	v, err := show(ctx, conn, "server_version_num")
	if err != nil {
		return s, err
	}
	if s.VersionNum, err = strconv.Atoi(v); err != nil {
		return s, fmt.Errorf("backup: server_version_num %q: %w", v, err)
	}
	if s.Major() < 15 {
		return s, fmt.Errorf("backup: server is PostgreSQL %d: %w (the backup protocol used needs 15 or later)", s.Major(), ErrWrongMajor)
	}
	if v, err = show(ctx, conn, "wal_segment_size"); err != nil {
		return s, err
	}
	if s.SegmentSize, err = parseSize(v); err != nil {
		return s, fmt.Errorf("backup: wal_segment_size: %w", err)
	}
	if v, err = show(ctx, conn, "in_hot_standby"); err != nil {
		return s, err
	}
	s.InRecovery = v == "on"
	return s, nil
}

// reserveWAL creates a temporary physical slot holding WAL from now on,
// so the WAL the backup includes cannot be recycled while the data files
// stream (pg_basebackup -X stream does the same). The server drops it
// when the connection ends, also if this process dies.
func reserveWAL(ctx context.Context, conn *pgconn.PgConn, id string) error {
	name := "tenure_backup_" + strings.ToLower(id) + "_" + strconv.FormatUint(uint64(conn.PID()), 10)
	_, err := query(ctx, conn, "CREATE_REPLICATION_SLOT "+name+" TEMPORARY PHYSICAL RESERVE_WAL")
	return err
}

func show(ctx context.Context, conn *pgconn.PgConn, name string) (string, error) {
	rows, err := query(ctx, conn, "SHOW "+name)
	if err != nil {
		return "", err
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return "", fmt.Errorf("backup: SHOW %s: %w", name, ErrProtocol)
	}
	return rows[0][0], nil
}

func query(ctx context.Context, conn *pgconn.PgConn, sql string) ([][]string, error) {
	results, err := conn.Exec(ctx, sql).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("backup: %s: %w", sql, err)
	}
	var rows [][]string
	for _, r := range results {
		for _, row := range r.Rows {
			s := make([]string, len(row))
			for i, v := range row {
				s[i] = string(v)
			}
			rows = append(rows, s)
		}
	}
	return rows, nil
}

var sizeRE = regexp.MustCompile(`^(\d+)(B|kB|MB|GB)$`)

// parseSize reads SHOW's memory units ("16MB").
func parseSize(v string) (uint64, error) {
	m := sizeRE.FindStringSubmatch(v)
	if m == nil {
		return 0, fmt.Errorf("%q: want a number and B, kB, MB or GB", v)
	}
	n, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil {
		return 0, err
	}
	shift := map[string]uint{"B": 0, "kB": 10, "MB": 20, "GB": 30}[m[2]]
	return n << shift, nil
}
