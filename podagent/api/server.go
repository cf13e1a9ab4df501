package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Config configures the Server. Build it with DefaultConfig and override.
type Config struct {
	// Listen is the address to listen on (":8008").
	Listen string
	// Token, when set, is required as "Authorization: Bearer <token>" on
	// every request that changes something (POST, PUT, PATCH, DELETE).
	// Never log it.
	Token string
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration
	// CommandTimeout bounds one call into Commands: how long a switchover
	// or restart may take before the client is told 503.
	CommandTimeout time.Duration
	// WriteTimeout bounds a whole response; it must exceed CommandTimeout.
	WriteTimeout time.Duration
	// ShutdownTimeout is how long ListenAndServe waits for requests in
	// flight when its context ends.
	ShutdownTimeout time.Duration
	// Version is Tenure's version, reported as tenure.version.
	Version string
	// Collectors are served on /metrics besides the agent's own series
	// (the WAL archive's, for example).
	Collectors []prometheus.Collector
}

// DefaultConfig returns the defaults: port 8008, no token. A switchover is
// given 60 s, three times Patroni's wait (2×max(10 s, loop_wait)).
func DefaultConfig() Config {
	return Config{
		Listen:          ":8008",
		ReadTimeout:     10 * time.Second,
		CommandTimeout:  60 * time.Second,
		WriteTimeout:    70 * time.Second,
		ShutdownTimeout: 5 * time.Second,
		Version:         "dev",
	}
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	switch {
	case c.Listen == "":
		return errors.New("api config: empty listen address")
	case c.ReadTimeout <= 0 || c.CommandTimeout <= 0 || c.ShutdownTimeout <= 0:
		return errors.New("api config: timeouts must be positive")
	case c.WriteTimeout <= c.CommandTimeout:
		return fmt.Errorf("api config: write timeout %v must exceed command timeout %v", c.WriteTimeout, c.CommandTimeout)
	}
	return nil
}

// Server is the agent's REST API.
type Server struct {
	cfg     Config
	src     Source
	cmds    Commands
	log     hclog.Logger
	tokenID [sha256.Size]byte // sha256 of cfg.Token, compared in constant time
	handler http.Handler
}

// New validates cfg and returns a Server reading from src and forwarding
// commands to cmds.
func New(cfg Config, src Source, cmds Commands, log hclog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if src == nil || cmds == nil {
		return nil, errors.New("api: nil source or commands")
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	s := &Server{cfg: cfg, src: src, cmds: cmds, log: log.Named("api"), tokenID: sha256.Sum256([]byte(cfg.Token))}
	h, err := s.routes()
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	s.handler = h
	return s, nil
}

// Handler returns the API as an http.Handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.handler }

// ListenAndServe listens on cfg.Listen and serves until ctx ends, then
// shuts down gracefully. It returns nil after a shutdown caused by ctx.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("api listen %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is ListenAndServe on a listener of the caller's; it closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       2 * s.cfg.ReadTimeout,
		ErrorLog:          s.log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	s.log.Info("listening", "addr", ln.Addr().String(), "auth", s.cfg.Token != "")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("api serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		_ = srv.Close()
	}
	<-errc
	if err != nil {
		return fmt.Errorf("api shutdown: %w", err)
	}
	return nil
}

// authorize checks the bearer token when one is configured. Both sides
// are hashed first so the comparison takes the same time whatever the
// length or content of the token offered.
func (s *Server) authorize(r *http.Request) error {
	if s.cfg.Token == "" {
		return nil
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return fmt.Errorf("%w: bearer token required", ErrUnauthorized)
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	if subtle.ConstantTimeCompare(got[:], s.tokenID[:]) != 1 {
		return fmt.Errorf("%w: wrong token", ErrUnauthorized)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeText(w, http.StatusInternalServerError, "encode response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

func writeText(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = fmt.Fprintln(w, msg)
}

func writeError(w http.ResponseWriter, err error) {
	writeText(w, StatusCode(err), oneLine(err))
}
