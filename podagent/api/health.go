package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tenure-pg/tenure/leaderelect"
)

// defaultMaxLag is Patroni's default maximum_lag_on_failover, which
// /readiness falls back to when neither ?lag nor the config sets one.
const defaultMaxLag = 1 << 20

// check is one health-check path: its verdict for a snapshot and query.
// tagged checks also honour Patroni's ?tag_<name>=<value> filters.
type check struct {
	verdict func(s Snapshot, q query) int
	tagged  bool
}

// healthChecks maps every health-check path, aliases included, to its
// check. The paths and verdicts are Patroni 4's.
var healthChecks = map[string]check{
	"/":                      {verdict: primaryCode},
	"/primary":               {verdict: primaryCode},
	"/master":                {verdict: primaryCode},
	"/read-write":            {verdict: primaryCode},
	"/leader":                {verdict: leaderCode},
	"/standby-leader":        {verdict: standbyLeaderCode},
	"/standby_leader":        {verdict: standbyLeaderCode},
	"/replica":               {verdict: replicaCode, tagged: true},
	"/read-only":             {verdict: readOnlyCode, tagged: true},
	"/sync":                  {verdict: syncCode, tagged: true},
	"/synchronous":           {verdict: syncCode, tagged: true},
	"/read-only-sync":        {verdict: readOnlySyncCode, tagged: true},
	"/read-only-synchronous": {verdict: readOnlySyncCode, tagged: true},
	"/async":                 {verdict: asyncCode, tagged: true},
	"/asynchronous":          {verdict: asyncCode, tagged: true},
	"/health":                {verdict: healthCode, tagged: true},
}

// query is the parsed query string of a health check.
type query struct {
	maxLag    uint64 // bytes; meaningful when hasLag
	hasLag    bool
	replState string // ?replication_state=
	writeMode bool   // ?mode=write (/readiness)
	tags      map[string]string
}

// parseQuery reads the parameters health checks understand. A ?lag that
// does not parse is an error (Patroni would ignore it silently, turning a
// typo into "no lag limit").
func parseQuery(v url.Values) (query, error) {
	q := query{replState: v.Get("replication_state"), writeMode: v.Get("mode") == "write"}
	if raw, ok := v["lag"]; ok && len(raw) > 0 {
		n, err := ParseSize(raw[0])
		if err != nil {
			return query{}, fmt.Errorf("%w: lag: %v", ErrBadRequest, err)
		}
		q.maxLag, q.hasLag = n, true
	}
	for k, vals := range v {
		if name, ok := strings.CutPrefix(k, "tag_"); ok && len(vals) > 0 {
			if q.tags == nil {
				q.tags = map[string]string{}
			}
			q.tags[name] = vals[0]
		}
	}
	return q, nil
}

func code(ok bool) int {
	if ok {
		return http.StatusOK
	}
	return http.StatusServiceUnavailable
}

func running(s Snapshot) bool { return s.State == StateRunning }

func primaryCode(s Snapshot, _ query) int {
	return code(s.Leading && s.Role == leaderelect.RolePrimary && running(s))
}

// leaderCode is Patroni's /leader: the lease alone, whatever postgres does
// (a standby cluster's leader included).
func leaderCode(s Snapshot, _ query) int { return code(s.Leading || standbyLeading(s)) }

// standbyLeaderCode: 200 on a standby cluster's leader, the lock holder
// that stays in recovery replaying its source.
func standbyLeaderCode(s Snapshot, _ query) int { return code(standbyLeading(s)) }

// standbyLeading reports whether s is a standby cluster's leader: running
// in recovery and holding a lease this member has seen renewed within the
// TTL. (Snapshot.Leading is for writable primaries only.)
func standbyLeading(s Snapshot) bool {
	return s.Role == leaderelect.RoleReplica && running(s) && s.View.Lock.Holder == s.Member && !s.View.Lock.Expired(s.Now)
}

func replicaCode(s Snapshot, q query) int {
	ok := s.Role == leaderelect.RoleReplica && running(s) &&
		(!q.hasLag || replayLag(s) <= q.maxLag) &&
		(q.replState == "" || q.replState == s.Postgres.ReceiverState)
	return code(ok)
}

func readOnlyCode(s Snapshot, q query) int {
	if primaryCode(s, q) == http.StatusOK {
		return http.StatusOK
	}
	return replicaCode(s, q)
}

func syncCode(s Snapshot, q query) int {
	if !isSyncStandby(s) {
		return http.StatusServiceUnavailable
	}
	return replicaCode(s, q)
}

func readOnlySyncCode(s Snapshot, q query) int {
	if primaryCode(s, q) == http.StatusOK {
		return http.StatusOK
	}
	return syncCode(s, q)
}

func asyncCode(s Snapshot, q query) int {
	if isSyncStandby(s) {
		return http.StatusServiceUnavailable
	}
	return replicaCode(s, q)
}

func healthCode(s Snapshot, _ query) int { return code(running(s)) }

// tagsMatch applies ?tag_<name>=<value> filters as Patroni does: a tag the
// member does not have fails the check; booleans compare as "true".
func tagsMatch(t leaderelect.Tags, want map[string]string) bool {
	have := map[string]string{}
	if t.NoFailover {
		have["nofailover"] = "true"
	}
	if t.NoSync {
		have["nosync"] = "true"
	}
	if t.FailoverPriority != 0 {
		have["failover_priority"] = strconv.Itoa(t.FailoverPriority)
	}
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// verdict is the status code of the health check at path, or an error for
// an unknown path (ErrNotFound) or a bad query (ErrBadRequest).
func verdict(path string, v url.Values, s Snapshot) (int, error) {
	c, ok := healthChecks[path]
	if !ok {
		return 0, fmt.Errorf("%w: %s", ErrNotFound, path)
	}
	q, err := parseQuery(v)
	if err != nil {
		return 0, err
	}
	status := c.verdict(s, q)
	if status == http.StatusOK && c.tagged && !tagsMatch(s.Tags, q.tags) {
		status = http.StatusServiceUnavailable
	}
	return status, nil
}

// livenessCode is 200 while the HA loop runs: it last completed within
// the TTL on a running primary, twice that on a replica (which can afford
// to be slower; a stuck primary must fail its probe before its lease is
// gone), or any time in maintenance mode, as Patroni.
func livenessCode(s Snapshot) int {
	limit := 2 * s.TTL
	if s.Role == leaderelect.RolePrimary && running(s) {
		limit = s.TTL
	}
	return code(s.Paused || loopAge(s) <= limit)
}

// readinessCode is 200 for a running, leading primary, and for a running
// replica that streams and is within ?lag (default maximum_lag_on_failover,
// else 1 MiB) of the leader, measured on replay or, with ?mode=write, on
// receipt.
func readinessCode(s Snapshot, v url.Values) (int, error) {
	q, err := parseQuery(v)
	if err != nil {
		return 0, err
	}
	if primaryCode(s, q) == http.StatusOK || standbyLeading(s) {
		return http.StatusOK, nil
	}
	if !running(s) || s.Role != leaderelect.RoleReplica || s.Postgres.ReceiverState != "streaming" {
		return http.StatusServiceUnavailable, nil
	}
	limit := uint64(defaultMaxLag)
	if cfg := s.View.State.Config.MaximumLagOnFailover; cfg > 0 {
		limit = uint64(cfg)
	}
	if q.hasLag {
		limit = q.maxLag
	}
	pos := s.Postgres.ReplayedLSN
	if q.writeMode {
		pos = s.Postgres.ReceivedLSN
	}
	return code(leaderLSN(s).Sub(pos) <= limit), nil
}
