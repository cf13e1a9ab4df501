package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tenure-pg/tenure/leaderelect"
)

// ctx bounds one call into Commands by the request and CommandTimeout.
func (s *Server) ctx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), s.cfg.CommandTimeout)
}

// switchover handles POST /switchover and /failover: decode, validate
// against the snapshot with Patroni's rules, then forward.
func (s *Server) switchover(failover bool) commandFunc {
	return func(r *http.Request, body []byte) (response, error) {
		req, err := DecodeSwitchover(body, failover)
		if err != nil {
			return response{}, err
		}
		snap := s.src.Snapshot()
		req, err = ValidateSwitchover(snap.View, req, snap.Now)
		if err != nil {
			return response{}, err
		}
		ctx, cancel := s.ctx(r)
		defer cancel()
		if err := s.cmds.Switchover(ctx, req); err != nil {
			return response{}, fmt.Errorf("%s: %w", action(req), err)
		}
		if !req.ScheduledAt.IsZero() {
			return response{http.StatusAccepted, "Switchover scheduled"}, nil
		}
		return response{http.StatusOK, outcome(req, snap.View.Lock.Holder, s.src.Snapshot().View.Lock.Holder)}, nil
	}
}

// outcome words a finished switchover as Patroni does, from the holder
// before and after. The agent's snapshot may not show the new holder yet;
// then the candidate asked for is named.
func outcome(req SwitchoverRequest, before, after string) string {
	verb := "switched"
	if req.Failover {
		verb = "failed"
	}
	switch {
	case after != "" && after != before && req.Candidate != "" && after != req.Candidate:
		return fmt.Sprintf("%s over to %q instead of %q", strings.ToUpper(verb[:1])+verb[1:], after, req.Candidate)
	case after != "" && after != before:
		return fmt.Sprintf("Successfully %s over to %q", verb, after)
	case req.Candidate != "":
		return fmt.Sprintf("Successfully %s over to %q", verb, req.Candidate)
	}
	return fmt.Sprintf("Successfully %s over", verb)
}

func action(r SwitchoverRequest) string {
	if r.Failover {
		return "failover"
	}
	return "switchover"
}

func (s *Server) cancelSwitchover(r *http.Request, body []byte) (response, error) {
	ctx, cancel := s.ctx(r)
	defer cancel()
	if err := s.cmds.CancelSwitchover(ctx); err != nil {
		if errors.Is(err, ErrNotFound) {
			return response{}, fmt.Errorf("%w: no switchover is scheduled", ErrNotFound)
		}
		return response{}, fmt.Errorf("cancel switchover: %w", err)
	}
	return response{http.StatusOK, "scheduled switchover deleted"}, nil
}

func (s *Server) restart(r *http.Request, body []byte) (response, error) {
	req, err := DecodeRestart(body)
	if err != nil {
		return response{}, err
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	if err := s.cmds.Restart(ctx, req); err != nil {
		return response{}, fmt.Errorf("restart failed: %w", err)
	}
	return response{http.StatusOK, "restarted successfully"}, nil
}

func (s *Server) reload(r *http.Request, body []byte) (response, error) {
	if err := decodeStrict(body, &struct{}{}, true); err != nil {
		return response{}, err
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	if err := s.cmds.Reload(ctx); err != nil {
		return response{}, fmt.Errorf("reload: %w", err)
	}
	return response{http.StatusAccepted, "reload scheduled"}, nil
}

func (s *Server) reinitialize(r *http.Request, body []byte) (response, error) {
	force, err := DecodeReinitialize(body)
	if err != nil {
		return response{}, err
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	if err := s.cmds.Reinitialize(ctx, force); err != nil {
		return response{}, fmt.Errorf("reinitialize: %w", err)
	}
	return response{http.StatusOK, "reinitialize started"}, nil
}

// patchConfig applies a JSON merge patch. The patch's form is checked
// first, so a malformed one never reaches Commands; it is then applied to
// the current config inside UpdateConfig's compare-and-swap, where a
// result that fails ValidateConfig aborts the update (400).
func (s *Server) patchConfig(r *http.Request, body []byte) (response, error) {
	if err := checkPatch(body); err != nil {
		return response{}, err
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	next, err := s.cmds.UpdateConfig(ctx, func(c *leaderelect.Config) error {
		merged, err := MergeConfig(*c, body)
		if err != nil {
			return err
		}
		*c = merged
		return nil
	})
	if err != nil {
		return response{}, fmt.Errorf("patch config: %w", err)
	}
	return response{http.StatusOK, next}, nil
}

func (s *Server) putConfig(r *http.Request, body []byte) (response, error) {
	cfg, err := DecodeConfig(body)
	if err != nil {
		return response{}, err
	}
	ctx, cancel := s.ctx(r)
	defer cancel()
	next, err := s.cmds.UpdateConfig(ctx, func(c *leaderelect.Config) error {
		*c = cfg
		return nil
	})
	if err != nil {
		return response{}, fmt.Errorf("replace config: %w", err)
	}
	return response{http.StatusOK, next}, nil
}
