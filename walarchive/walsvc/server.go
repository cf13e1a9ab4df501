package walsvc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenure-pg/tenure/walarchive/walname"
)

// Pusher archives one file; see wal.Archiver. It must return nil only
// once the file is durably stored, must never overwrite a different
// archived file of the same name, and must succeed again for a file
// already archived with identical bytes: the service relies on that to
// upload ahead of postgres and to let a retried request finish.
type Pusher interface {
	Push(ctx context.Context, path string) error
}

// Fetcher restores one archived file to dest, verifying it, with an error
// wrapping ErrNotArchived when the archive has no such file.
type Fetcher interface {
	Fetch(ctx context.Context, name, dest string) error
}

// Server is the WAL service. Make it with New, run it with Run (or Listen
// and Serve), scrape it through Collector.
type Server struct {
	cfg     Config
	log     hclog.Logger
	m       *metrics
	push    *uploader
	fetch   *prefetcher
	serving atomic.Bool
}

// New checks cfg and builds a server; it touches nothing on disk.
func New(cfg Config, p Pusher, f Fetcher, log hclog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if p == nil || f == nil {
		return nil, fmt.Errorf("%w: nil Pusher or Fetcher", errConfig)
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	m := newMetrics()
	pgwal := filepath.Join(cfg.DataDir, "pg_wal")
	return &Server{
		cfg:   cfg,
		log:   log,
		m:     m,
		push:  newUploader(cfg, pgwal, p, log, m),
		fetch: newPrefetcher(cfg, filepath.Join(cfg.DataDir, spoolName), f, log, m),
	}, nil
}

// Collector exposes the tenure_walsvc_* metrics for registration.
func (s *Server) Collector() prometheus.Collector { return s.m }

// errServing: Serve is already running.
var errServing = errors.New("wal service already serving")

// Serve answers requests on l until ctx is done (or l fails), then closes
// l, stops background uploads and prefetches and waits for them. Requests
// still waiting get CodeShutdown, so their clients fall back to
// standalone. It wipes the prefetch spool first: its files may be from
// another data directory or a previous recovery.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	if !s.serving.CompareAndSwap(false, true) {
		return errServing
	}
	defer s.serving.Store(false)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.push.start(ctx)
	if err := s.fetch.start(ctx); err != nil {
		l.Close()
		return err
	}
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	var handlers sync.WaitGroup
	var err error
	for {
		conn, aerr := l.Accept()
		if aerr != nil {
			if ctx.Err() == nil {
				err = fmt.Errorf("accept: %w", aerr)
			}
			break
		}
		handlers.Go(func() { s.handle(ctx, conn) })
	}
	cancel()
	handlers.Wait()
	s.push.wait()
	s.fetch.wait()
	return err
}

// requestTimeout bounds reading a request and writing a reply; the work
// in between is bounded by the client's patience and Config.Timeout.
const requestTimeout = 10 * time.Second

func (s *Server) handle(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(requestTimeout))
	var req request
	rep := reply{Version: ProtocolVersion, Code: CodeOK}
	if err := readMessage(bufio.NewReaderSize(conn, maxMessage), &req); err != nil {
		rep.Code, rep.Error = CodeBadRequest, err.Error()
	} else {
		_ = conn.SetReadDeadline(time.Time{})
		if req.Version == ProtocolVersion {
			// At once, before the work: the client's sign of life.
			_ = conn.SetWriteDeadline(time.Now().Add(requestTimeout))
			_ = writeMessage(conn, reply{Version: ProtocolVersion, Code: CodeAccepted})
		}
		rep = s.do(ctx, req)
	}
	s.m.requests.WithLabelValues(opLabel(req.Op), rep.Code).Inc()
	if rep.Code != CodeOK && rep.Code != CodeNotArchived {
		s.log.Debug("request refused or failed", "op", req.Op, "path", req.Path, "name", req.Name, "code", rep.Code, "error", rep.Error)
	}
	_ = conn.SetWriteDeadline(time.Now().Add(requestTimeout))
	_ = writeMessage(conn, rep)
}

// do runs one decoded request and turns its outcome into a reply.
func (s *Server) do(ctx context.Context, req request) reply {
	if req.Version != ProtocolVersion {
		return reply{Version: ProtocolVersion, Code: CodeVersion,
			Error: fmt.Sprintf("protocol version %d, server speaks %d", req.Version, ProtocolVersion)}
	}
	var err error
	switch req.Op {
	case opPush:
		err = s.doPush(ctx, req)
	case opFetch:
		err = s.doFetch(ctx, req)
	default:
		err = fmt.Errorf("%w: unknown op %q (want %q or %q)", errBadRequest, req.Op, opPush, opFetch)
	}
	return reply{Version: ProtocolVersion, Code: code(ctx, err), Error: errString(err)}
}

func (s *Server) doPush(ctx context.Context, req request) error {
	if req.Name != "" || req.Dest != "" {
		return fmt.Errorf("%w: push takes path only", errBadRequest)
	}
	name, err := s.inPGWal(req.Path)
	if err != nil {
		return err
	}
	if _, err := walname.Parse(name, s.cfg.SegmentSize); err != nil {
		return fmt.Errorf("%w: %w", errBadRequest, err)
	}
	return s.push.request(ctx, name)
}

func (s *Server) doFetch(ctx context.Context, req request) error {
	if req.Path != "" {
		return fmt.Errorf("%w: fetch takes name and dest only", errBadRequest)
	}
	f, err := walname.Parse(req.Name, s.cfg.SegmentSize)
	if err != nil {
		return fmt.Errorf("%w: %w", errBadRequest, err)
	}
	if _, err := s.inPGWal(req.Dest); err != nil {
		return err
	}
	return s.fetch.request(ctx, req.Name, f, req.Dest)
}

// Errors the handler maps to reply codes.
var (
	errBadRequest = errors.New("bad request")
	errNotServed  = errors.New("not served here")
)

// inPGWal checks that path is a file directly in the served pg_wal (as
// %p always is: pg_wal/<name> for archive_command, pg_wal/RECOVERYXLOG or
// pg_wal/<name> for restore_command) and returns its base name. The directory is compared by
// identity, not by spelling, because the client's view of PGDATA may go
// through a symlink; and it is stat'ed per request because the data
// directory can be replaced under a running agent (re-clone).
func (s *Server) inPGWal(path string) (string, error) {
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("%w: path %q is not absolute", errBadRequest, path)
	}
	pgwal := filepath.Join(s.cfg.DataDir, "pg_wal")
	want, err := os.Stat(pgwal)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errNotServed, err)
	}
	got, err := os.Stat(filepath.Dir(path))
	if err != nil || !os.SameFile(want, got) {
		return "", fmt.Errorf("%w: %s is not in %s", errNotServed, path, pgwal)
	}
	return filepath.Base(path), nil
}

// code classifies a request's outcome.
func code(ctx context.Context, err error) string {
	switch {
	case err == nil:
		return CodeOK
	case errors.Is(err, errBadRequest):
		return CodeBadRequest
	case errors.Is(err, errNotServed):
		return CodeNotServed
	case isNotArchived(err):
		return CodeNotArchived
	case ctx.Err() != nil:
		return CodeShutdown
	}
	return CodeFailed
}

// isNotArchived recognises the Fetcher's "no such file" error.
func isNotArchived(err error) bool { return errors.Is(err, ErrNotArchived) }

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// opLabel keeps the metric's label set bounded whatever clients send.
func opLabel(op string) string {
	if op == opPush || op == opFetch {
		return op
	}
	return "invalid"
}
