package api

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/tenure-pg/tenure/internal/lsn"
	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/ha"
)

// Cluster is the document of GET /cluster (Patroni's shape, plus the lease
// holder, epoch and system identifier). The CLI prints the same document
// for `tenure list -o json`.
type Cluster struct {
	Scope               string               `json:"scope"`
	SystemIdentifier    string               `json:"database_system_identifier,omitempty"`
	Leader              string               `json:"leader,omitempty"`
	Epoch               int64                `json:"epoch"`
	Members             []ClusterMember      `json:"members"`
	Pause               bool                 `json:"pause,omitempty"`
	ScheduledSwitchover *ScheduledSwitchover `json:"scheduled_switchover,omitempty"`
}

// ClusterMember is one member of Cluster, from its heartbeat.
type ClusterMember struct {
	Name string `json:"name"`
	// Role is "leader", "standby_leader", "sync_standby" or "replica".
	Role           string            `json:"role"`
	State          string            `json:"state"`
	APIURL         string            `json:"api_url,omitempty"`
	Host           string            `json:"host,omitempty"`
	Port           int               `json:"port,omitempty"`
	Timeline       int64             `json:"timeline,omitempty"`
	PendingRestart bool              `json:"pending_restart,omitempty"`
	Tags           *leaderelect.Tags `json:"tags,omitempty"`
	// LSN positions and lags behind the leader, for members other than
	// the leader (Patroni 4's lsn/receive_lsn/replay_lsn and lags).
	LSN        string `json:"lsn,omitempty"`
	ReceiveLSN string `json:"receive_lsn,omitempty"`
	ReplayLSN  string `json:"replay_lsn,omitempty"`
	Lag        *Lag   `json:"lag,omitempty"`
	ReceiveLag *Lag   `json:"receive_lag,omitempty"`
	ReplayLag  *Lag   `json:"replay_lag,omitempty"`
}

// Lag is a replication lag in bytes, or unknown (JSON "unknown", as
// Patroni) when either position is not known.
type Lag struct {
	Bytes uint64
	Known bool
}

// MarshalJSON writes the byte count, or "unknown".
func (l Lag) MarshalJSON() ([]byte, error) {
	if !l.Known {
		return []byte(`"unknown"`), nil
	}
	return []byte(strconv.FormatUint(l.Bytes, 10)), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (l *Lag) UnmarshalJSON(b []byte) error {
	if string(b) == `"unknown"` {
		*l = Lag{}
		return nil
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("lag %s: want a byte count or \"unknown\"", b)
	}
	*l = Lag{Bytes: n, Known: true}
	return nil
}

// ScheduledSwitchover is Patroni's "scheduled_switchover" object.
type ScheduledSwitchover struct {
	At   string `json:"at"`
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// isoLayout is how Patroni prints timestamps in /cluster and /history
// (Python's isoformat).
const isoLayout = "2006-01-02T15:04:05.999999Z07:00"

// ClusterOf describes the cluster as v sees it, members sorted by name.
func ClusterOf(v leaderelect.ClusterView) Cluster {
	c := Cluster{
		Scope:            v.Cluster,
		SystemIdentifier: v.State.Initialize,
		Leader:           v.Lock.Holder,
		Epoch:            v.Lock.Epoch,
		Members:          []ClusterMember{},
		Pause:            v.State.Config.Paused,
	}
	var leaderPos lsn.LSN
	if m, ok := v.Members[v.Lock.Holder]; ok && v.Lock.Holder != "" {
		leaderPos = lsn.LSN(m.FlushedLSN)
	}
	for _, name := range v.MemberNames() {
		c.Members = append(c.Members, clusterMember(v, v.Members[name].MemberStatus, leaderPos))
	}
	if sw := v.State.Switchover; sw != nil && !sw.ScheduledAt.IsZero() {
		c.ScheduledSwitchover = &ScheduledSwitchover{At: sw.ScheduledAt.Format(isoLayout), From: sw.From, To: sw.To}
	}
	return c
}

func clusterMember(v leaderelect.ClusterView, m leaderelect.MemberStatus, leaderPos lsn.LSN) ClusterMember {
	out := ClusterMember{
		Name: m.Name, Role: "replica", State: m.State, APIURL: m.APIURL,
		Timeline: m.Timeline, PendingRestart: m.PendingRestart,
	}
	out.Host, out.Port = hostPort(m.ConnURL)
	if m.Tags != (leaderelect.Tags{}) {
		tags := m.Tags
		out.Tags = &tags
	}
	switch {
	case m.Name == v.Lock.Holder && m.Role == leaderelect.RoleReplica:
		out.Role = "standby_leader" // a standby cluster's leader, in recovery
		return out
	case m.Name == v.Lock.Holder:
		out.Role = "leader"
		return out
	case SyncMode(v.State.Config) && v.State.Sync.Contains(m.Name):
		out.Role = "sync_standby"
	}
	received, replayed := lsn.LSN(m.ReceivedLSN), lsn.LSN(m.ReplayedLSN)
	out.LSN, out.Lag = position(max(received, replayed), leaderPos)
	out.ReceiveLSN, out.ReceiveLag = position(received, leaderPos)
	out.ReplayLSN, out.ReplayLag = position(replayed, leaderPos)
	return out
}

// position formats a member's WAL position and its lag behind leader.
func position(pos, leader lsn.LSN) (string, *Lag) {
	if pos == 0 {
		return "unknown", &Lag{}
	}
	if leader == 0 {
		return pos.String(), &Lag{}
	}
	return pos.String(), &Lag{Bytes: leader.Sub(pos), Known: true}
}

// SyncMode reports whether cfg turns synchronous replication on, read by
// ha.ParseSyncMode as the agent reads it. A value that does not parse
// (only a hand-edited ConfigMap can hold one) is off here; the agent then
// keeps its own --sync-mode and reports the error.
func SyncMode(cfg leaderelect.Config) bool {
	m, err := ha.ParseSyncMode(cfg.SynchronousMode)
	return err == nil && m != ha.SyncOff
}

// hostPort returns the host and port of a postgres connection URL
// ("postgres://user@10.0.0.5:5432/postgres"), or what it can of them.
func hostPort(conn string) (string, int) {
	if conn == "" {
		return "", 0
	}
	u, err := url.Parse(conn)
	if err != nil || u.Host == "" {
		return "", 0
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return u.Host, 0
	}
	p, _ := strconv.Atoi(port)
	return host, p
}

// History is the document of GET /history: Patroni's list of
// [timeline, lsn, reason, timestamp, new_leader].
func History(entries []leaderelect.HistoryEntry) [][]any {
	out := make([][]any, 0, len(entries))
	for _, e := range entries {
		out = append(out, []any{e.Timeline, e.LSN, e.Reason, formatTime(e.At), e.Leader})
	}
	return out
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(isoLayout)
}
