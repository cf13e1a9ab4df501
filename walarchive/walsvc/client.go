package walsvc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/tenure-pg/tenure/walarchive/wal"
)

// Errors the client returns; test with errors.Is.
var (
	// ErrNoServer: nothing that can do the work answered: no socket, a
	// socket nobody listens on, a server of another protocol version or one
	// serving another data directory, or a connection that broke before
	// the reply. Nothing is known to have been done, and because push and
	// fetch are idempotent the caller falls back to doing it standalone.
	ErrNoServer = errors.New("no wal service")
	// ErrNotArchived is wal.ErrNotArchived: the archive holds no such
	// file (fetch). For restore_command this is the normal end of the
	// archive. Being the same value, a caller's errors.Is check works
	// whether the service or the standalone Archiver answered.
	ErrNotArchived = wal.ErrNotArchived
	// ErrBadRequest: the server refused the request as malformed.
	ErrBadRequest = errors.New("bad request")
	// ErrFailed: the server tried and failed (say S3 is unreachable); the
	// message says why. For archive_command it means exit non-zero so
	// postgres retries.
	ErrFailed = errors.New("wal service failed")
)

// dialTimeout bounds connecting to a local socket, which either answers
// at once or not at all; a wedged agent must not hold up postgres.
const dialTimeout = 2 * time.Second

// ackTimeout (a var for tests) bounds the wait for the server's
// acknowledgement, which it sends before any work: a server that accepts
// the connection but never acknowledges (a hung agent; the kernel accepts
// for it) counts as no server, and the caller works standalone instead of
// holding up archiving. The work itself may take as long as ctx allows.
var ackTimeout = 5 * time.Second

// Push asks the server listening on socket to archive the file at path
// (relative paths are resolved against the working directory, which for
// archive_command is PGDATA). It returns nil only once the server reports
// the file durably stored.
func Push(ctx context.Context, socket, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("wal service push %s: %w", path, err)
	}
	if err := call(ctx, socket, request{Op: opPush, Path: abs}); err != nil {
		return fmt.Errorf("wal service push %s: %w", path, err)
	}
	return nil
}

// Fetch asks the server listening on socket to restore the archived file
// name to dest (relative to the working directory, as Push).
func Fetch(ctx context.Context, socket, name, dest string) error {
	abs, err := filepath.Abs(dest)
	if err != nil {
		return fmt.Errorf("wal service fetch %s: %w", name, err)
	}
	if err := call(ctx, socket, request{Op: opFetch, Name: name, Dest: abs}); err != nil {
		return fmt.Errorf("wal service fetch %s: %w", name, err)
	}
	return nil
}

// call sends one request and waits for its reply, as long as ctx allows.
func call(ctx context.Context, socket string, req request) error {
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoServer, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	req.Version = ProtocolVersion
	if err := writeMessage(conn, req); err != nil {
		return fmt.Errorf("%w: send: %w", ErrNoServer, err)
	}
	r := bufio.NewReaderSize(conn, maxMessage)
	_ = conn.SetReadDeadline(time.Now().Add(ackTimeout))
	var rep reply
	if err := readMessage(r, &rep); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: no acknowledgement: %w", ErrNoServer, err)
	}
	if rep.Code == CodeAccepted {
		_ = conn.SetReadDeadline(time.Time{})
		if err := ctx.Err(); err != nil { // a cancellation the line above undid
			return err
		}
		rep = reply{}
		if err := readMessage(r, &rep); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%w: no reply: %w", ErrNoServer, err)
		}
	}
	return replyError(rep)
}

// replyError maps a reply to nil or an error wrapping one sentinel.
func replyError(rep reply) error {
	switch rep.Code {
	case CodeOK:
		return nil
	case CodeNotArchived:
		return fmt.Errorf("%w: %s", ErrNotArchived, rep.Error)
	case CodeBadRequest:
		return fmt.Errorf("%w: %s", ErrBadRequest, rep.Error)
	case CodeNotServed, CodeVersion, CodeShutdown:
		return fmt.Errorf("%w: %s", ErrNoServer, rep.Error)
	case CodeFailed:
		return fmt.Errorf("%w: %s", ErrFailed, rep.Error)
	}
	return fmt.Errorf("%w: unknown reply code %q (protocol %d): %s", ErrFailed, rep.Code, rep.Version, rep.Error)
}
