package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
)

// ErrNoToken is Validate's answer to a configuration that would serve the
// unsafe endpoints to anyone: a token is required unless Insecure says
// otherwise, explicitly.
var ErrNoToken = errors.New("api config: no token for the unsafe endpoints (POST, PUT, PATCH, DELETE): give one, or set insecure explicitly")

// Config configures the Server. Build it with DefaultConfig and override.
type Config struct {
	// Listen is the address to listen on (":8008").
	Listen string
	// Token is required as "Authorization: Bearer <token>" on every
	// request that changes something (POST, PUT, PATCH, DELETE). Never
	// log it. Without it Validate fails unless Insecure is set: one member
	// with an open API opens the whole cluster (switchover, failover,
	// parameters), so an open API must be asked for.
	Token string
	// Insecure allows serving the unsafe endpoints with no Token (local
	// runs and tests; --api-insecure). Logged loudly at every start.
	Insecure bool
	// CertFile and KeyFile, both or neither, serve HTTPS (PEM files).
	CertFile, KeyFile string
	// ReadHeaderTimeout bounds reading a request's headers: a slowloris
	// client holds a connection slot at most this long.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration
	// CommandTimeout bounds one call into Commands: how long a switchover
	// or restart may take before the client is told 503.
	CommandTimeout time.Duration
	// WriteTimeout bounds a whole response; it must exceed CommandTimeout.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long.
	IdleTimeout time.Duration
	// MaxConns caps concurrent connections; more wait in the listen
	// backlog until a slot frees (within ReadHeaderTimeout or IdleTimeout
	// at the latest). Load balancers and peers need a handful each.
	MaxConns int
	// MaxConnsPerHost caps the connections from one remote address; more
	// are closed at once, so one client cannot take every slot.
	MaxConnsPerHost int
	// ShutdownTimeout is how long ListenAndServe waits for requests in
	// flight when its context ends.
	ShutdownTimeout time.Duration
	// Version is Tenure's version, reported as tenure.version.
	Version string
	// Collectors are served on /metrics besides the agent's own series
	// (the WAL archive's, for example).
	Collectors []prometheus.Collector
	// Unsafe are more endpoints that change something, by mux pattern
	// ("POST /failsafe"), served behind the same authorizer as the
	// commands.
	Unsafe map[string]http.Handler
}

// DefaultConfig returns the defaults: port 8008, no token (set one, or
// Insecure). A switchover is given 60 s, three times Patroni's wait
// (2×max(10 s, loop_wait)). 512 connections at about 10 KiB of buffers
// and goroutine stack each stay under 6 MiB; 64 from one address are far
// more than a load balancer, a kubelet or a peer opens.
func DefaultConfig() Config {
	return Config{
		Listen:            ":8008",
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		CommandTimeout:    60 * time.Second,
		WriteTimeout:      70 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxConns:          512,
		MaxConnsPerHost:   64,
		ShutdownTimeout:   5 * time.Second,
		Version:           "dev",
	}
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	switch {
	case c.Listen == "":
		return errors.New("api config: empty listen address")
	case c.Token == "" && !c.Insecure:
		return ErrNoToken
	case (c.CertFile == "") != (c.KeyFile == ""):
		return errors.New("api config: give both a certificate and a key file, or neither")
	case c.ReadHeaderTimeout <= 0 || c.ReadTimeout <= 0 || c.CommandTimeout <= 0 || c.ShutdownTimeout <= 0 || c.IdleTimeout <= 0:
		return errors.New("api config: timeouts must be positive")
	case c.WriteTimeout <= c.CommandTimeout:
		return fmt.Errorf("api config: write timeout %v must exceed command timeout %v", c.WriteTimeout, c.CommandTimeout)
	case c.MaxConns < 1 || c.MaxConnsPerHost < 1:
		return fmt.Errorf("api config: max connections %d and per host %d must be positive", c.MaxConns, c.MaxConnsPerHost)
	}
	return nil
}

// Server is the agent's REST API.
type Server struct {
	cfg     Config
	src     Source
	cmds    Commands
	log     hclog.Logger
	auth    Authorizer
	tls     *tls.Config // nil: plain HTTP
	handler http.Handler
}

// New validates cfg, loads its certificate, and returns a Server reading
// from src and forwarding commands to cmds.
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
	s := &Server{cfg: cfg, src: src, cmds: cmds, log: log.Named("api"), auth: NewAuthorizer(cfg.Token)}
	if cfg.CertFile != "" {
		tc, err := loadTLS(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, err
		}
		s.tls = tc
	}
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
// It logs, once, how the API is protected: auth and TLS.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          s.log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	addr := ln.Addr().String()
	ln = newLimitListener(ln, s.cfg.MaxConns, s.cfg.MaxConnsPerHost)
	if s.tls != nil {
		ln = tls.NewListener(ln, s.tls)
	}
	s.logProtection(addr)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("api serve %s: %w", addr, err)
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

// logProtection says at every start what protects the API; an open one
// is a warning every time, not a line once at install.
func (s *Server) logProtection(addr string) {
	auth := "bearer token"
	if s.cfg.Token == "" {
		auth = "none"
		s.log.Warn("INSECURE: no API token (--api-insecure): anyone who reaches this port can switch over, fail over, restart postgres and change its parameters",
			"addr", addr)
	}
	s.log.Info("listening", "addr", addr, "auth", auth, "tls", s.tls != nil, "max_conns", s.cfg.MaxConns, "max_conns_per_host", s.cfg.MaxConnsPerHost,
		"read_header_timeout", s.cfg.ReadHeaderTimeout, "read_timeout", s.cfg.ReadTimeout,
		"write_timeout", s.cfg.WriteTimeout, "idle_timeout", s.cfg.IdleTimeout)
}

// loadTLS loads the key pair once, to fail at start, and serves it
// reloaded whenever the files change (cert-manager renews in place).
func loadTLS(certFile, keyFile string) (*tls.Config, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile}
	if err := r.load(); err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.get}, nil
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
