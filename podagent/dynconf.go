package podagent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/api"
	"github.com/tenure-pg/tenure/podagent/pgconf"
)

// The cluster's parameters reach postgres here. The REST API and the CLI
// refuse what does not render (api.ValidateConfig), but a ConfigMap can
// still be edited by hand, or written by an older version: a stored
// parameter that does not render must never keep postgres down. So the
// agent renders what it can — each parameter that passes
// pgconf.ValidateParameters, and for one that does not, the last value of
// that name it rendered, if any — reports the rest (/patroni and /health,
// tenure.config_error; one log line per change) and carries on.

// usableParameters is params with every parameter that would not render
// replaced by its value in lastGood, or left out. It returns the problems
// it worked around, nil when there were none. It is pure.
func usableParameters(params, lastGood map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(params))
	var problems []error
	for _, name := range slices.Sorted(maps.Keys(params)) {
		if err := pgconf.ValidateParameters(map[string]string{name: params[name]}); err != nil {
			problems = append(problems, err)
			if v, ok := lastGood[name]; ok {
				out[name] = v
			}
			continue
		}
		out[name] = params[name]
	}
	if err := pgconf.ValidateParameters(out); err != nil { // names that differ only in case
		problems = append(problems, err)
		out = maps.Clone(lastGood)
	}
	return out, errors.Join(problems...)
}

// parameters are the agent's parameters overlaid with the cluster's, as
// they can be rendered; it records what it returned as the last good set
// and any problem with the stored configuration for the API.
func (a *Agent) parameters() map[string]string {
	dyn := a.store.View().State.Config
	merged := a.currentParameters(dyn)
	a.mu.Lock()
	lastGood := a.mem.goodParams
	a.mu.Unlock()
	out, err := usableParameters(merged, lastGood)
	a.mu.Lock()
	a.mem.goodParams = maps.Clone(out)
	a.mu.Unlock()
	a.reportConfig(errors.Join(err, validateStored(dyn)))
	return out
}

// validateStored is what api.ValidateConfig says of the stored
// configuration (the synchronous_mode, bounds), parameters aside: those
// are reported by usableParameters with the fallback they got.
func validateStored(c leaderelect.Config) error {
	c.Parameters = nil
	if err := api.ValidateConfig(c); err != nil {
		return fmt.Errorf("stored configuration: %w", err)
	}
	return nil
}

// reportConfig publishes the configuration problem for the API and logs
// it once per change.
func (a *Agent) reportConfig(err error) {
	msg := ""
	if err != nil {
		msg = strings.Join(strings.Fields(err.Error()), " ") + " (not applied; the member runs with the last values that render)"
	}
	a.mu.Lock()
	changed := msg != a.mem.configError
	a.mem.configError = msg
	a.mu.Unlock()
	switch {
	case !changed:
	case msg != "":
		a.log.Error("dynamic configuration not applied in full", "error", msg)
	default:
		a.log.Info("dynamic configuration applies in full again")
	}
}

// applyParameters reports what of the stored configuration is not
// applied, and renders the configuration again when the cluster's
// parameters changed since they were last rendered and reloads postgres,
// as Patroni does within a loop: parameters that take effect on reload
// do so at once, the others show as pending_restart. The HA loop calls it
// under the executor lock after its own actions, only while postgres runs
// and the decision did nothing else (a start, promote or rewind renders
// for itself).
func (a *Agent) applyParameters(ctx context.Context) {
	a.mu.Lock()
	rendered := a.mem.goodParams
	a.mu.Unlock()
	dyn := a.store.View().State.Config
	want, err := usableParameters(a.currentParameters(dyn), rendered)
	a.reportConfig(errors.Join(err, validateStored(dyn)))
	if !a.pg.Running() || maps.Equal(want, rendered) {
		return
	}
	if err := a.rerender(ctx); err != nil {
		a.log.Warn("apply changed parameters", "error", err)
		return
	}
	a.log.Info("applied changed parameters (reload)")
}

// currentParameters are the agent's parameters overlaid with the
// cluster's (dyn) as stored, before any check.
func (a *Agent) currentParameters(dyn leaderelect.Config) map[string]string {
	out := maps.Clone(a.cfg.Parameters)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, dyn.Parameters)
	return out
}

// rerender renders the configuration for the role postgres runs in now
// and reloads it. The caller holds the executor lock.
func (a *Agent) rerender(ctx context.Context) error {
	if _, err := a.renderRole(a.Snapshot().Role); err != nil {
		return err
	}
	return a.pg.Reload(ctx)
}

// renderRole renders the configuration for postgres running as role: a
// primary, or a standby of the member it follows, which it returns.
func (a *Agent) renderRole(role leaderelect.Role) (following string, err error) {
	a.mu.Lock()
	following = a.mem.following
	a.mu.Unlock()
	var standby *pgconf.Standby
	if role != leaderelect.RolePrimary {
		standby = a.standbyOf(following)
	}
	_, err = a.render(standby)
	return following, err
}
