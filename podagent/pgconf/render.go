package pgconf

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Header is the first line of every rendered postgresql.conf; Apply tells
// its own file from initdb's (or a hand-written one) by it.
const Header = "# Managed by tenure-agent."

// BaseConf is where Apply moves initdb's postgresql.conf, once.
const BaseConf = "postgresql.base.conf"

// setting is one rendered "name = 'value'" line.
type setting struct{ name, value string }

// Render returns the contents of postgresql.conf and pg_hba.conf for m.
// It is pure: the same Member gives the same bytes.
func Render(m Member) (conf, hba []byte, err error) {
	if err := m.Validate(); err != nil {
		return nil, nil, err
	}
	var b strings.Builder
	b.WriteString(Header + " Rewritten before every start and after every clone\n" +
		"# or rewind: edits here are lost. Set parameters in the cluster's configuration.\n")
	fmt.Fprintf(&b, "include_if_exists %s\n", Quote(BaseConf))
	b.WriteString("\n# Member settings, owned by the agent.\n")
	writeSettings(&b, m.memberSettings())
	b.WriteString("\n# Parameters: the cluster's configuration over the agent's defaults.\n")
	writeSettings(&b, m.parameterSettings())
	return []byte(b.String()), renderHBA(m), nil
}

func writeSettings(b *strings.Builder, settings []setting) {
	for _, s := range settings {
		fmt.Fprintf(b, "%s = %s\n", s.name, Quote(s.value))
	}
}

// memberSettings are the agent-owned settings, in a fixed order.
func (m Member) memberSettings() []setting {
	s := []setting{
		{"listen_addresses", m.ListenAddresses},
		{"port", fmt.Sprint(m.Port)},
		{"unix_socket_directories", m.SocketDir},
		{"synchronous_standby_names", m.SyncStandbyNames},
	}
	if m.ArchiveCommand != "" {
		s = append(s, setting{"archive_command", m.ArchiveCommand})
	}
	restore := m.RestoreCommand
	if m.Standby != nil && m.Standby.RestoreCommand != "" {
		restore = m.Standby.RestoreCommand
	}
	if restore != "" {
		s = append(s, setting{"restore_command", restore})
	}
	if sb := m.Standby; sb != nil {
		if sb.PrimaryConnInfo != "" {
			s = append(s, setting{"primary_conninfo", sb.PrimaryConnInfo})
		}
		if sb.PrimarySlotName != "" {
			s = append(s, setting{"primary_slot_name", sb.PrimarySlotName})
		}
	}
	// Rendered for primaries too (they ignore it): it needs a restart to
	// change, and dropping it at every promotion left each new primary
	// reporting pending_restart (issue 13).
	tl := "latest"
	if m.Standby != nil && m.Standby.RecoveryTargetTimeline != "" {
		tl = m.Standby.RecoveryTargetTimeline
	}
	s = append(s, setting{"recovery_target_timeline", tl})
	return s
}

// parameterSettings are the defaults overlaid with the cluster's
// parameters, sorted by name.
func (m Member) parameterSettings() []setting {
	merged := maps.Clone(defaults)
	if m.ArchiveCommand != "" {
		// archive_timeout bounds how much committed work a quiet primary
		// holds only in an unfinished segment: the archive's recovery
		// point, as CloudNativePG's default (Spilo's is 30 min).
		merged["archive_mode"], merged["archive_timeout"] = "on", "5min"
	}
	for name, v := range m.Parameters {
		merged[strings.ToLower(name)] = v
	}
	out := make([]setting, 0, len(merged))
	for _, name := range slices.Sorted(maps.Keys(merged)) {
		out = append(out, setting{name, merged[name]})
	}
	return out
}

// renderHBA puts the cluster's lines first, then the defaults: local
// connections are trusted (the agent itself connects over the socket as
// the superuser; the socket directory is the server user's), loopback is
// trusted only when asked, and the network needs scram-sha-256.
func renderHBA(m Member) []byte {
	var b strings.Builder
	b.WriteString("# Managed by tenure-agent, with postgresql.conf. PostgreSQL uses the first\n" +
		"# matching line: the cluster's lines come first, then the agent's defaults.\n")
	for _, line := range m.HBA {
		if line = strings.TrimSpace(line); line != "" {
			b.WriteString(line + "\n")
		}
	}
	b.WriteString("\n# Agent defaults.\n")
	rows := [][]string{
		{"local", "all", "all", "", "trust"},
		{"local", "replication", "all", "", "trust"},
	}
	if m.TrustLoopback {
		for _, addr := range []string{"127.0.0.0/8", "::1/128"} {
			rows = append(rows, []string{"host", "all", "all", addr, "trust"},
				[]string{"host", "replication", "all", addr, "trust"})
		}
	}
	rows = append(rows, []string{"host", "all", "all", "all", "scram-sha-256"},
		[]string{"host", "replication", replicationRoles(m), "all", "scram-sha-256"})
	for _, r := range rows {
		fmt.Fprintf(&b, "%-6s %-12s %-20s %-14s %s\n", r[0], r[1], r[2], r[3], r[4])
	}
	return []byte(b.String())
}

// replicationRoles is the user column of the network replication line:
// the replication user and the superuser, quoted so that names like "all"
// are read as names, or "all" when neither is set.
func replicationRoles(m Member) string {
	var roles []string
	for _, r := range []string{m.ReplicationUser, m.Superuser} {
		if r != "" && !slices.Contains(roles, `"`+r+`"`) {
			roles = append(roles, `"`+r+`"`)
		}
	}
	if len(roles) == 0 {
		return "all"
	}
	return strings.Join(roles, ",")
}
