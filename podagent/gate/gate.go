package gate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// Name is the gate's application_name: the first entry of every
// synchronous_standby_names the agent renders.
const Name = "tenure_gate"

// tick bounds how long a fresh lease can go unnoticed by the gate (an
// acknowledgement held back while the lease was stale, then renewed) and
// how soon a stale one makes it drop its connection.
const tick = 50 * time.Millisecond

// Config configures a Gate.
type Config struct {
	// ConnString reaches the local server as a role allowed to replicate
	// (the superuser over the unix socket); Name and replication=true are
	// added.
	ConnString string
	// Leading reports whether this member may act as a writable primary at
	// now: a fresh lease on the agent's monotonic clock. It must be cheap
	// and must not block on anything the HA loop holds for long.
	Leading func(now time.Time) bool
	Log     hclog.Logger
}

// Gate confirms the local server's WAL while Leading.
type Gate struct {
	cfg Config

	mu    sync.Mutex
	conn  *pgconn.PgConn
	acked atomic.Uint64 // last position confirmed, for tests
}

// New returns a gate; Run starts it.
func New(cfg Config) *Gate {
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	return &Gate{cfg: cfg}
}

// Acked is the last WAL position the gate confirmed (0 before any).
func (g *Gate) Acked() uint64 { return g.acked.Load() }

// Disconnect drops the gate's session now, if any. The agent calls it
// before it stops postgres: a fast shutdown waits for every connected
// standby to confirm the shutdown checkpoint, and the gate must not
// confirm anything once the lease is stale. With the session gone,
// commits still wait (the gate stays listed) and the shutdown proceeds.
func (g *Gate) Disconnect() {
	g.mu.Lock()
	c := g.conn
	g.mu.Unlock()
	if c != nil {
		// The socket, not the PgConn: the session's goroutine owns that,
		// and a net.Conn may be closed from any goroutine. The session
		// then fails its next read and ends.
		_ = c.Conn().Close()
	}
}

// Run keeps a replication session open while Leading and confirms WAL
// through it, until ctx ends.
func (g *Gate) Run(ctx context.Context) {
	backoff := 10 * time.Millisecond
	for ctx.Err() == nil {
		if !g.cfg.Leading(time.Now()) {
			sleep(ctx, tick/5) // until the lease may be fresh again
			continue
		}
		err := g.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil && !errors.Is(err, errNotLeading) {
			g.cfg.Log.Debug("commit gate session ended", "error", err)
			sleep(ctx, backoff)
			backoff = min(2*backoff, 500*time.Millisecond)
			continue
		}
		backoff = 10 * time.Millisecond
	}
}

var errNotLeading = errors.New("lease not fresh")

// session is one replication connection, from IDENTIFY_SYSTEM to the
// moment the lease goes stale or the stream ends.
func (g *Gate) session(ctx context.Context) error {
	conn, pos, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer func() {
		g.mu.Lock()
		g.conn = nil
		g.mu.Unlock()
		cctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		_ = conn.Close(cctx)
		cancel()
	}()
	g.cfg.Log.Debug("commit gate connected", "at", pglogrepl.LSN(pos))
	var acked uint64
	// due: confirm even with nothing new. Postgres asks for a reply in
	// keepalives, and ignores a confirmation from a walsender still in
	// catch-up (the first one often is), so an idle tick confirms again:
	// a commit already waiting brings no new WAL to confirm.
	due := false
	for {
		if !g.cfg.Leading(time.Now()) {
			return errNotLeading
		}
		if pos > acked || due {
			if err := g.confirm(conn, pos); err != nil {
				return err
			}
			acked, due = pos, false
		}
		// A read deadline rather than a context per message: with
		// context.Background pgconn starts no watcher goroutine, and this
		// is once per commit.
		_ = conn.Conn().SetReadDeadline(time.Now().Add(tick))
		msg, err := conn.ReceiveMessage(context.Background())
		var ne net.Error
		switch {
		case err != nil && errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil:
			due = true
			continue
		case err != nil:
			return fmt.Errorf("receive WAL: %w", err)
		}
		next, reply, err := handle(msg)
		if err != nil {
			return err
		}
		pos, due = max(pos, next), reply
	}
}

// open connects and starts streaming at the server's current position.
func (g *Gate) open(ctx context.Context) (*pgconn.PgConn, uint64, error) {
	cfg, err := pgconn.ParseConfig(g.cfg.ConnString)
	if err != nil {
		return nil, 0, fmt.Errorf("commit gate conninfo: %w", err)
	}
	cfg.RuntimeParams["application_name"] = Name
	cfg.RuntimeParams["replication"] = "true"
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgconn.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, 0, fmt.Errorf("commit gate connect: %w", err)
	}
	g.mu.Lock()
	g.conn = conn
	g.mu.Unlock()
	sys, err := pglogrepl.IdentifySystem(cctx, conn)
	if err != nil {
		conn.Close(context.Background())
		return nil, 0, fmt.Errorf("commit gate identify system: %w", err)
	}
	if err := startPhysical(cctx, conn, sys.XLogPos, sys.Timeline); err != nil {
		conn.Close(context.Background())
		return nil, 0, err
	}
	return conn, uint64(sys.XLogPos), nil
}

// startPhysical sends START_REPLICATION without a slot (pglogrepl's
// helper always names one) and waits for copy-both mode.
func startPhysical(ctx context.Context, conn *pgconn.PgConn, at pglogrepl.LSN, timeline int32) error {
	q := fmt.Sprintf("START_REPLICATION PHYSICAL %s TIMELINE %d", at, timeline)
	conn.Frontend().SendQuery(&pgproto3.Query{String: q})
	if err := conn.Frontend().Flush(); err != nil {
		return fmt.Errorf("commit gate start replication: %w", err)
	}
	for {
		msg, err := conn.ReceiveMessage(ctx)
		if err != nil {
			return fmt.Errorf("commit gate start replication: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.CopyBothResponse:
			return nil
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("commit gate start replication: %s", m.Message)
		case *pgproto3.NoticeResponse:
		default:
			return fmt.Errorf("commit gate start replication: unexpected %T", msg)
		}
	}
}

// handle reads one message of the stream: the position it proves
// received, and whether the server asked for a reply.
func handle(msg pgproto3.BackendMessage) (pos uint64, reply bool, err error) {
	switch m := msg.(type) {
	case *pgproto3.CopyData:
		if len(m.Data) == 0 {
			return 0, false, nil
		}
		switch m.Data[0] {
		case pglogrepl.XLogDataByteID:
			x, err := pglogrepl.ParseXLogData(m.Data[1:])
			if err != nil {
				return 0, false, fmt.Errorf("parse WAL data: %w", err)
			}
			return uint64(x.WALStart) + uint64(len(x.WALData)), false, nil
		case pglogrepl.PrimaryKeepaliveMessageByteID:
			k, err := pglogrepl.ParsePrimaryKeepaliveMessage(m.Data[1:])
			if err != nil {
				return 0, false, fmt.Errorf("parse keepalive: %w", err)
			}
			// The keepalive carries what was sent before it, which the
			// stream delivered in order.
			return uint64(k.ServerWALEnd), k.ReplyRequested, nil
		}
		return 0, false, nil
	case *pgproto3.CopyDone:
		return 0, false, errors.New("stream ended (end of timeline)")
	case *pgproto3.ErrorResponse:
		return 0, false, fmt.Errorf("server: %s", m.Message)
	}
	return 0, false, nil
}

// confirm reports pos as written, flushed and applied.
func (g *Gate) confirm(conn *pgconn.PgConn, pos uint64) error {
	p := pglogrepl.LSN(pos)
	err := pglogrepl.SendStandbyStatusUpdate(context.Background(), conn, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: p, WALFlushPosition: p, WALApplyPosition: p,
	})
	if err != nil {
		return fmt.Errorf("confirm WAL: %w", err)
	}
	g.acked.Store(pos)
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
