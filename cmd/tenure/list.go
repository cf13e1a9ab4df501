package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/api"
)

func outputFlag(fs *flag.FlagSet) *string {
	o := fs.String("o", "table", "output format: table or json")
	fs.StringVar(o, "output", "table", "output format: table or json")
	return o
}

func checkOutput(o string) error {
	if o != "table" && o != "json" {
		return usagef("output format %q: want table or json", o)
	}
	return nil
}

// setupView sets up a command that shows the cluster with -o: json writes
// asJSON of the view, table has writeTable print it.
func setupView(c *cli, fs *flag.FlagSet, asJSON func(leaderelect.ClusterView) any, writeTable func(io.Writer, leaderelect.ClusterView)) func(context.Context, []string) error {
	output := outputFlag(fs)
	return func(ctx context.Context, args []string) error {
		st, err := c.openCluster(ctx, args, func() error { return checkOutput(*output) })
		if err != nil {
			return err
		}
		defer st.Close()
		v := st.View()
		if *output == "json" {
			return writeJSON(c.out, asJSON(v))
		}
		writeTable(c.out, v)
		return nil
	}
}

func setupList(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
	return setupView(c, fs, func(v leaderelect.ClusterView) any { return api.ClusterOf(v) }, writeList)
}

func writeJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// roleTitles are patronictl's role names.
var roleTitles = map[string]string{"leader": "Leader", "standby_leader": "Standby Leader", "sync_standby": "Sync Standby", "replica": "Replica"}

// writeList prints the cluster as `patronictl list` does, with the lock
// holder and epoch below.
func writeList(out io.Writer, v leaderelect.ClusterView) {
	c := api.ClusterOf(v)
	sysid := c.SystemIdentifier
	if sysid == "" {
		sysid = "uninitialized"
	}
	t := table{
		title:  fmt.Sprintf("Cluster: %s (%s)", c.Scope, sysid),
		header: []string{"Member", "Host", "Role", "State", "TL", "Lag in MB", "Pending restart", "Tags"},
		right:  map[int]bool{4: true, 5: true},
	}
	for _, m := range c.Members {
		t.rows = append(t.rows, []string{
			m.Name, host(m), roleTitles[m.Role], m.State, timeline(m.Timeline),
			lagMB(m), mark(m.PendingRestart), tags(m.Tags),
		})
	}
	t.footers = listFooters(v)
	t.write(out)
}

func host(m api.ClusterMember) string {
	if m.Port != 0 && m.Port != 5432 {
		return m.Host + ":" + strconv.Itoa(m.Port)
	}
	return m.Host
}

func timeline(tl int64) string {
	if tl == 0 {
		return ""
	}
	return strconv.FormatInt(tl, 10)
}

// lagMB is patronictl's "Lag in MB": blank for the leader, rounded MiB.
func lagMB(m api.ClusterMember) string {
	switch {
	case m.Role == "leader":
		return ""
	case m.Lag == nil || !m.Lag.Known:
		return "unknown"
	}
	return strconv.FormatUint((m.Lag.Bytes+(1<<19))>>20, 10)
}

func mark(b bool) string {
	if b {
		return "*"
	}
	return ""
}

func tags(t *leaderelect.Tags) string {
	if t == nil {
		return ""
	}
	var out []string
	if t.NoFailover {
		out = append(out, "nofailover: true")
	}
	if t.NoSync {
		out = append(out, "nosync: true")
	}
	if t.FailoverPriority != 0 {
		out = append(out, "failover_priority: "+strconv.Itoa(t.FailoverPriority))
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// listFooters describes the lock, maintenance mode and switchover intent.
func listFooters(v leaderelect.ClusterView) []string {
	var f []string
	switch holder := v.Lock.Holder; {
	case !v.Lock.Exists:
		f = append(f, "Leader lock: never taken")
	case holder == "":
		f = append(f, fmt.Sprintf("Leader lock: free (epoch %d)", v.Lock.Epoch))
	default:
		note := ""
		if _, ok := v.Members[holder]; !ok {
			note = " (holder has no heartbeat)"
		}
		f = append(f, fmt.Sprintf("Leader lock: %s, epoch %d%s", holder, v.Lock.Epoch, note))
	}
	if v.State.Config.Paused {
		f = append(f, "Maintenance mode: on")
	}
	if sw := v.State.Switchover; sw != nil {
		what := "Switchover"
		if sw.Failover {
			what = "Failover"
		}
		when := "requested"
		if !sw.ScheduledAt.IsZero() {
			when = "scheduled at " + sw.ScheduledAt.Format("2006-01-02T15:04:05Z07:00")
		}
		f = append(f, fmt.Sprintf("%s %s: from %s to %s", what, when, orAny(sw.From), orAny(sw.To)))
	}
	return f
}

func orAny(name string) string {
	if name == "" {
		return "any"
	}
	return name
}
