package pgctl

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// connectTimeout bounds connecting over the socket; a server that does not
// answer a local connection within it is as good as down.
const connectTimeout = 5 * time.Second

// ConnString is a libpq keyword/value connection string for the configured
// superuser over the unix socket, database "postgres".
func (in *Instance) ConnString() string {
	kv := []string{
		"host=" + connValue(in.cfg.SocketDir),
		"port=" + strconv.Itoa(in.cfg.Port),
		"user=" + connValue(in.cfg.Superuser),
		"dbname=postgres",
		"sslmode=disable",
		"application_name=tenure-agent",
		"connect_timeout=" + strconv.Itoa(int(connectTimeout.Seconds())),
	}
	return strings.Join(kv, " ")
}

// connValue quotes a keyword/value connection string value.
func connValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// connect opens a connection for one call. Statements run in pgx's "exec"
// mode: one round trip, no prepared statement cache to outlive a restart.
func (in *Instance) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(in.ConnString())
	if err != nil {
		return nil, err
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	return pgx.ConnectConfig(ctx, cfg)
}

// withConn runs f on a fresh connection and closes it.
func (in *Instance) withConn(ctx context.Context, f func(*pgx.Conn) error) error {
	conn, err := in.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return f(conn)
}

// ping reports whether the server accepts connections, like pg_isready:
// any answer but 57P03 (starting up, shutting down, not yet consistent)
// counts, even an authentication failure.
func (in *Instance) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	conn, err := pgconn.Connect(ctx, in.ConnString())
	if err == nil {
		return conn.Close(ctx)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code != "57P03" {
		return nil
	}
	return err
}

// Exec runs one statement as the superuser (bootstrap and tests).
func (in *Instance) Exec(ctx context.Context, sql string, args ...any) error {
	err := in.withConn(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, sql, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("exec on %s: %w", in.cfg.DataDir, err)
	}
	return nil
}

// promoteWait is how long pg_promote waits for the promotion to finish
// (about 40 ms on a small cluster).
const promoteWait = 60

// Promote ends recovery: the standby becomes a primary on a new timeline.
// It returns once the promotion finished. If ctx ends first the promotion
// may still finish: the request is already with the server.
func (in *Instance) Promote(ctx context.Context) error {
	began := time.Now()
	var ok bool
	err := in.withConn(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, "SELECT pg_promote(true, $1)", promoteWait).Scan(&ok)
	})
	if pgErr, isPg := errors.AsType[*pgconn.PgError](err); isPg && pgErr.Code == "55000" {
		return fmt.Errorf("promote %s: %w: %s", in.cfg.DataDir, ErrNotInRecovery, pgErr.Message)
	}
	if err != nil {
		return fmt.Errorf("promote %s: %w", in.cfg.DataDir, err)
	}
	if !ok {
		return fmt.Errorf("promote %s: not finished within %d s", in.cfg.DataDir, promoteWait)
	}
	in.log.Info("promoted", "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// Checkpoint runs CHECKPOINT (a restartpoint on a standby).
func (in *Instance) Checkpoint(ctx context.Context) error {
	if err := in.Exec(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// validSlotName reports whether name is a valid replication slot name.
func validSlotName(name string) bool {
	if name == "" || len(name) > 63 {
		return false
	}
	for _, c := range []byte(name) {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// EnsureSlot creates physical replication slot name, reserving WAL at
// once, unless it exists. A logical slot of that name is an error.
func (in *Instance) EnsureSlot(ctx context.Context, name string) error {
	if !validSlotName(name) {
		return fmt.Errorf("ensure slot %q: %w: want 1-63 of [a-z0-9_]", name, ErrInvalid)
	}
	err := in.withConn(ctx, func(c *pgx.Conn) error {
		var kind string
		err := c.QueryRow(ctx, "SELECT slot_type FROM pg_replication_slots WHERE slot_name = $1", name).Scan(&kind)
		switch {
		case err == nil && kind == "physical":
			return nil
		case err == nil:
			return fmt.Errorf("a %s slot of that name exists", kind)
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		_, err = c.Exec(ctx, "SELECT pg_create_physical_replication_slot($1, true)", name)
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "42710" {
			return nil // created concurrently
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("ensure slot %q: %w", name, err)
	}
	return nil
}

// DropSlot drops replication slot name if it exists. A slot in use gives
// ErrSlotActive.
func (in *Instance) DropSlot(ctx context.Context, name string) error {
	err := in.withConn(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", name)
		return err
	})
	pgErr, _ := errors.AsType[*pgconn.PgError](err)
	switch {
	case pgErr != nil && pgErr.Code == "42704": // dropped concurrently
		return nil
	case pgErr != nil && pgErr.Code == "55006":
		return fmt.Errorf("drop slot %q: %w: %s", name, ErrSlotActive, pgErr.Message)
	case err != nil:
		return fmt.Errorf("drop slot %q: %w", name, err)
	}
	return nil
}

// Slots lists the physical replication slots, sorted. Logical slots belong
// to the database's users and are not listed.
func (in *Instance) Slots(ctx context.Context) ([]string, error) {
	var names []string
	err := in.withConn(ctx, func(c *pgx.Conn) error {
		rows, _ := c.Query(ctx, "SELECT slot_name::text FROM pg_replication_slots WHERE slot_type = 'physical' ORDER BY 1")
		var err error
		names, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list slots: %w", err)
	}
	return names, nil
}
