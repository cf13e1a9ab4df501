package api

import (
	"net/http"
	"time"
)

// routes builds the mux. GET patterns also answer HEAD (net/http); health
// checks answer OPTIONS too, as HAProxy's default check method. A known
// path with the wrong method is 405, an unknown one 404.
func (s *Server) routes() (http.Handler, error) {
	mux := http.NewServeMux()
	for path := range healthChecks {
		pattern := path
		if path == "/" {
			pattern = "/{$}"
		}
		mux.HandleFunc("GET "+pattern, s.health)
		mux.HandleFunc("OPTIONS "+pattern, s.health)
	}
	mux.HandleFunc("GET /liveness", s.statusOnly(livenessCode))
	mux.HandleFunc("GET /readiness", s.readiness)
	mux.HandleFunc("GET /patroni", s.patroni)
	mux.HandleFunc("GET /cluster", s.cluster)
	mux.HandleFunc("GET /history", s.history)
	mux.HandleFunc("GET /config", s.getConfig)
	metrics, err := metricsHandler(s.src, s.cfg.Collectors...)
	if err != nil {
		return nil, err
	}
	mux.Handle("GET /metrics", metrics)

	mux.HandleFunc("POST /switchover", s.command("switchover", s.switchover(false)))
	mux.HandleFunc("POST /failover", s.command("failover", s.switchover(true)))
	mux.HandleFunc("DELETE /switchover", s.command("cancel switchover", s.cancelSwitchover))
	mux.HandleFunc("POST /restart", s.command("restart", s.restart))
	mux.HandleFunc("POST /reload", s.command("reload", s.reload))
	mux.HandleFunc("POST /reinitialize", s.command("reinitialize", s.reinitialize))
	mux.HandleFunc("PATCH /config", s.command("patch config", s.patchConfig))
	mux.HandleFunc("PUT /config", s.command("replace config", s.putConfig))
	for pattern, h := range s.cfg.Unsafe {
		mux.Handle(pattern, s.auth.Wrap(pattern, s.log, h))
	}
	return mux, nil
}

// health answers a health check: the status document on GET, the status
// code alone on HEAD and OPTIONS.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	snap := s.src.Snapshot()
	status, err := verdict(r.URL.Path, r.URL.Query(), snap)
	if err != nil {
		writeError(w, err)
		return
	}
	if r.Method != http.MethodGet {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, statusOf(snap, s.cfg.Version))
}

func (s *Server) statusOnly(verdict func(Snapshot) int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(verdict(s.src.Snapshot()))
	}
}

func (s *Server) readiness(w http.ResponseWriter, r *http.Request) {
	status, err := readinessCode(s.src.Snapshot(), r.URL.Query())
	if err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(status)
}

func (s *Server) patroni(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, statusOf(s.src.Snapshot(), s.cfg.Version))
}

func (s *Server) cluster(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, ClusterOf(s.src.Snapshot().View))
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, History(s.src.Snapshot().View.State.History))
}

// getConfig answers 502 before the cluster record exists, as Patroni does
// before the config key is written.
func (s *Server) getConfig(w http.ResponseWriter, r *http.Request) {
	v := s.src.Snapshot().View
	if !v.StateExists {
		writeText(w, http.StatusBadGateway, "cluster configuration not initialized")
		return
	}
	writeJSON(w, http.StatusOK, v.State.Config)
}

// response is what a command answers: text (a string) or a JSON document.
type response struct {
	code int
	body any
}

// commandFunc carries out one command with an already authorized request's
// body. It returns ErrBadRequest-class errors before calling Commands when
// the body is malformed.
type commandFunc func(r *http.Request, body []byte) (response, error)

// command wraps fn with authorization, the body limit, the command
// deadline and logging (once per command, never the body or token).
func (s *Server) command(name string, fn commandFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.auth.Check(r); err != nil {
			s.log.Warn("rejected unauthorized command", "command", name, "remote", r.RemoteAddr, "reason", err)
			w.Header().Set("WWW-Authenticate", `Bearer realm="tenure"`)
			writeError(w, err)
			return
		}
		body, err := readBody(r.Body)
		if err != nil {
			writeError(w, err)
			return
		}
		began := time.Now()
		resp, err := fn(r, body)
		if err != nil {
			s.log.Info("command refused or failed", "command", name, "remote", r.RemoteAddr, "code", StatusCode(err), "error", oneLine(err))
			writeError(w, err)
			return
		}
		s.log.Info("command done", "command", name, "remote", r.RemoteAddr, "code", resp.code, "took", time.Since(began).Round(time.Millisecond))
		if msg, ok := resp.body.(string); ok {
			writeText(w, resp.code, msg)
			return
		}
		writeJSON(w, resp.code, resp.body)
	}
}
