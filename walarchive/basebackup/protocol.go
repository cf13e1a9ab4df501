package basebackup

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/tenure-pg/tenure/internal/lsn"
)

// ErrProtocol: the server answered BASE_BACKUP with something this client
// does not understand (a server older than 15, or a bug).
var ErrProtocol = errors.New("unexpected base backup protocol message")

// command is the BASE_BACKUP options that matter to us, rendered in the
// parenthesised syntax PostgreSQL 15 introduced. It is the only syntax
// that yields the single-stream COPY protocol parsed by receive.
type command struct {
	Label    string
	Fast     bool // CHECKPOINT 'fast' instead of spreading it
	Progress bool // server sizes tablespaces first (one extra scan)
	MaxRate  int  // kB/s, 0 = unlimited; the server accepts 32..1048576
}

func (c command) String() string {
	opts := []string{
		"LABEL " + quote(c.Label),
		// The WAL written during the backup rides in base.tar, so the
		// backup restores without the archive (see doc.go), and the server
		// does not wait for the archiver: that wait needs archive_mode =
		// always on a replica and hangs when archiving is broken.
		"WAL true",
		"WAIT false",
		"MANIFEST 'yes'",
		"MANIFEST_CHECKSUMS 'CRC32C'",
	}
	if c.Fast {
		opts = append(opts, "CHECKPOINT 'fast'")
	}
	if c.Progress {
		opts = append(opts, "PROGRESS true")
	}
	if c.MaxRate > 0 {
		opts = append(opts, "MAX_RATE "+strconv.Itoa(c.MaxRate))
	}
	return "BASE_BACKUP (" + strings.Join(opts, ", ") + ")"
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// tablespace is one row of BASE_BACKUP's tablespace list. The data
// directory itself is the row with no OID.
type tablespace struct {
	OID      uint32
	Location string
	SizeKB   int64 // only with Progress
}

// position is a start or end row: an LSN and its timeline.
type position struct {
	LSN      lsn.LSN
	Timeline uint32
}

// sink receives the COPY stream of one backup, in order.
type sink interface {
	// archive starts a new tar archive (base.tar or <oid>.tar); the
	// previous one, if any, is complete.
	archive(ctx context.Context, name, location string) error
	// manifest starts the backup manifest; the previous archive is complete.
	manifest(ctx context.Context) error
	// data is the next chunk of the current archive or manifest. p is only
	// valid during the call.
	data(p []byte) error
	// progress reports the server's count of bytes sent so far.
	progress(done int64)
}

// startBackup sends cmd and reads the two result sets that precede the
// COPY stream: the start position and the tablespace list.
func startBackup(ctx context.Context, conn *pgconn.PgConn, cmd command) (position, []tablespace, error) {
	conn.Frontend().Send(&pgproto3.Query{String: cmd.String()})
	if err := conn.Frontend().Flush(); err != nil {
		return position{}, nil, fmt.Errorf("send BASE_BACKUP: %w", err)
	}
	sets, err := readResultSets(ctx, conn, 2)
	if err != nil {
		return position{}, nil, fmt.Errorf("BASE_BACKUP start: %w", err)
	}
	start, err := parsePosition(sets[0])
	if err != nil {
		return position{}, nil, fmt.Errorf("BASE_BACKUP start position: %w", err)
	}
	var tbs []tablespace
	for _, row := range sets[1] {
		tb, err := parseTablespace(row)
		if err != nil {
			return position{}, nil, fmt.Errorf("BASE_BACKUP tablespace list: %w", err)
		}
		tbs = append(tbs, tb)
	}
	return start, tbs, nil
}

// receive reads the COPY stream into s until CopyDone, then the end
// position and the end of the command.
func receive(ctx context.Context, conn *pgconn.PgConn, s sink) (position, error) {
	if err := expectCopyOut(ctx, conn); err != nil {
		return position{}, err
	}
	for {
		msg, err := conn.ReceiveMessage(ctx)
		if err != nil {
			return position{}, fmt.Errorf("receive backup stream: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			if err := dispatch(ctx, m.Data, s); err != nil {
				return position{}, err
			}
		case *pgproto3.CopyDone:
			return finish(ctx, conn)
		case *pgproto3.ErrorResponse:
			return position{}, fmt.Errorf("backup stream: %w", pgconn.ErrorResponseToPgError(m))
		case *pgproto3.NoticeResponse:
		default:
			return position{}, fmt.Errorf("backup stream: %w: %T", ErrProtocol, msg)
		}
	}
}

func expectCopyOut(ctx context.Context, conn *pgconn.PgConn) error {
	for {
		msg, err := conn.ReceiveMessage(ctx)
		if err != nil {
			return fmt.Errorf("receive backup stream: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.CopyOutResponse:
			return nil
		case *pgproto3.NoticeResponse:
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("backup stream: %w", pgconn.ErrorResponseToPgError(m))
		default:
			return fmt.Errorf("backup stream start: %w: %T", ErrProtocol, msg)
		}
	}
}

// dispatch decodes one CopyData payload of the PostgreSQL 15 protocol:
// 'n' new archive (name, location), 'm' manifest, 'd' data, 'p' progress.
func dispatch(ctx context.Context, p []byte, s sink) error {
	if len(p) == 0 {
		return fmt.Errorf("backup stream: %w: empty CopyData", ErrProtocol)
	}
	switch p[0] {
	case 'n':
		name, rest, ok1 := cstring(p[1:])
		loc, _, ok2 := cstring(rest)
		if !ok1 || !ok2 {
			return fmt.Errorf("backup stream: %w: bad new-archive message", ErrProtocol)
		}
		return s.archive(ctx, name, loc)
	case 'm':
		return s.manifest(ctx)
	case 'd':
		return s.data(p[1:])
	case 'p':
		if len(p) != 9 {
			return fmt.Errorf("backup stream: %w: bad progress message", ErrProtocol)
		}
		s.progress(int64(binary.BigEndian.Uint64(p[1:])))
		return nil
	}
	return fmt.Errorf("backup stream: %w: CopyData type %q", ErrProtocol, p[0])
}

func cstring(p []byte) (string, []byte, bool) {
	for i, b := range p {
		if b == 0 {
			return string(p[:i]), p[i+1:], true
		}
	}
	return "", nil, false
}

// finish reads the end position and waits for ReadyForQuery.
func finish(ctx context.Context, conn *pgconn.PgConn) (position, error) {
	sets, err := readResultSets(ctx, conn, -1)
	if err != nil {
		return position{}, fmt.Errorf("BASE_BACKUP end: %w", err)
	}
	if len(sets) == 0 {
		return position{}, fmt.Errorf("BASE_BACKUP end: %w: no end position", ErrProtocol)
	}
	end, err := parsePosition(sets[0])
	if err != nil {
		return position{}, fmt.Errorf("BASE_BACKUP end position: %w", err)
	}
	return end, nil
}

// readResultSets reads n result sets (RowDescription, DataRow...,
// CommandComplete) in text format; n < 0 reads until ReadyForQuery.
func readResultSets(ctx context.Context, conn *pgconn.PgConn, n int) ([][][]string, error) {
	var sets [][][]string
	var cur [][]string
	for n < 0 || len(sets) < n {
		msg, err := conn.ReceiveMessage(ctx)
		if err != nil {
			return nil, err
		}
		switch m := msg.(type) {
		case *pgproto3.RowDescription:
			cur = [][]string{}
		case *pgproto3.DataRow:
			row := make([]string, len(m.Values))
			for i, v := range m.Values {
				row[i] = string(v) // NULL reads as ""
			}
			cur = append(cur, row)
		case *pgproto3.CommandComplete:
			if cur != nil {
				sets = append(sets, cur)
				cur = nil
			}
		case *pgproto3.ReadyForQuery:
			if n < 0 {
				return sets, nil
			}
			return nil, fmt.Errorf("%w: command ended after %d of %d result sets", ErrProtocol, len(sets), n)
		case *pgproto3.ErrorResponse:
			return nil, pgconn.ErrorResponseToPgError(m)
		case *pgproto3.NoticeResponse:
		default:
			return nil, fmt.Errorf("%w: %T", ErrProtocol, msg)
		}
	}
	return sets, nil
}

func parsePosition(rows [][]string) (position, error) {
	if len(rows) != 1 || len(rows[0]) != 2 {
		return position{}, fmt.Errorf("%w: want one row of (lsn, tli)", ErrProtocol)
	}
	l, err := lsn.Parse(rows[0][0])
	if err != nil {
		return position{}, err
	}
	tli, err := strconv.ParseUint(rows[0][1], 10, 32)
	if err != nil {
		return position{}, fmt.Errorf("timeline %q: %w", rows[0][1], err)
	}
	return position{LSN: l, Timeline: uint32(tli)}, nil
}

func parseTablespace(row []string) (tablespace, error) {
	if len(row) != 3 {
		return tablespace{}, fmt.Errorf("%w: want (spcoid, spclocation, size)", ErrProtocol)
	}
	var tb tablespace
	if row[0] != "" {
		oid, err := strconv.ParseUint(row[0], 10, 32)
		if err != nil {
			return tablespace{}, fmt.Errorf("spcoid %q: %w", row[0], err)
		}
		tb.OID = uint32(oid)
	}
	tb.Location = row[1]
	if row[2] != "" {
		size, err := strconv.ParseInt(row[2], 10, 64)
		if err != nil {
			return tablespace{}, fmt.Errorf("size %q: %w", row[2], err)
		}
		tb.SizeKB = size
	}
	return tb, nil
}
