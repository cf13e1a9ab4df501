package pgconf

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
)

// ErrInvalid wraps every error Validate returns: the Member cannot be
// rendered and nothing was written.
var ErrInvalid = errors.New("invalid member configuration")

// Member is everything the configuration of one member depends on.
type Member struct {
	// ListenAddresses is listen_addresses ("*", "10.0.0.5", "").
	ListenAddresses string
	// Port is the TCP port; it also names the unix socket.
	Port int
	// SocketDir is unix_socket_directories: one absolute directory.
	SocketDir string
	// Parameters are the cluster-wide parameters from the dynamic
	// configuration. They override the defaults (see Defaults) and may not
	// name a parameter the agent owns (see IsOwned).
	Parameters map[string]string
	// Standby makes the member a standby of another server; nil renders a
	// primary.
	Standby *Standby
	// SyncStandbyNames is synchronous_standby_names; the agent publishes
	// the synchronous set before it sets this. Empty means asynchronous.
	SyncStandbyNames string
	// ArchiveCommand, when set, is the agent's archive_command; archive_mode
	// then defaults to "on" and Parameters may not set archive_command.
	ArchiveCommand string
	// RestoreCommand, when set, is restore_command whatever the role: a
	// primary never runs it, but pg_rewind --restore-target-wal reads it
	// from a former primary's configuration to fetch WAL that was recycled
	// locally but archived. Standby.RestoreCommand overrides it.
	RestoreCommand string
	// HBA are extra pg_hba.conf lines, rendered before the defaults so they
	// can override them (the first matching line wins).
	HBA []string
	// Superuser and ReplicationUser are the roles allowed to open
	// replication connections from the network (pg_basebackup and
	// streaming use the replication user; a superuser may clone too).
	// Empty both means any role, still with a password.
	Superuser       string
	ReplicationUser string
	// TrustLoopback trusts every connection from 127.0.0.0/8 and ::1,
	// including replication. For tests, where each member owns a loopback
	// address; production leaves it off and uses scram-sha-256.
	TrustLoopback bool
}

// Standby holds the settings that make a member follow another server.
type Standby struct {
	// PrimaryConnInfo is primary_conninfo (it may hold a password, so it
	// never appears in errors).
	PrimaryConnInfo string
	// PrimarySlotName is primary_slot_name (see SlotName).
	PrimarySlotName string
	// RestoreCommand fetches WAL from the archive when streaming cannot.
	RestoreCommand string
	// RecoveryTargetTimeline defaults to "latest", so a standby follows a
	// promotion of its primary's replacement.
	RecoveryTargetTimeline string
}

// owned lists the parameters the agent sets itself; Parameters may not
// name them. archive_command is owned only while Member.ArchiveCommand is
// set. The include directives are listed because a "parameter" with their
// name would be read as a directive.
var owned = []string{
	"config_file", "data_directory", "hba_file", "ident_file",
	"include", "include_dir", "include_if_exists",
	"listen_addresses", "port", "unix_socket_directories",
	"primary_conninfo", "primary_slot_name", "restore_command",
	"recovery_target_timeline", "synchronous_standby_names",
}

// defaults are the agent's parameter defaults, used where Parameters does
// not set the same name.
var defaults = map[string]string{
	"hot_standby":           "on",
	"hot_standby_feedback":  "on",
	"max_connections":       "100",
	"max_replication_slots": "10",
	"max_wal_senders":       "10",
	"password_encryption":   "scram-sha-256",
	"wal_keep_size":         "128MB",
	"wal_level":             "replica",
	// pg_rewind needs wal_log_hints or data checksums.
	"wal_log_hints": "on",
}

// Validate reports the first problem with m, wrapped in ErrInvalid.
func (m Member) Validate() error {
	switch {
	case m.Port < 1 || m.Port > 65535:
		return fmt.Errorf("%w: port %d out of range 1-65535", ErrInvalid, m.Port)
	case !filepath.IsAbs(m.SocketDir) || strings.ContainsAny(m.SocketDir, ",\" \t"):
		return fmt.Errorf("%w: socket dir %q must be one absolute path without commas, quotes or blanks", ErrInvalid, m.SocketDir)
	}
	if err := m.validateParameters(); err != nil {
		return err
	}
	fields := map[string]string{
		"listen addresses": m.ListenAddresses, "synchronous standby names": m.SyncStandbyNames,
		"archive command": m.ArchiveCommand, "restore command": m.RestoreCommand,
	}
	if m.Standby != nil {
		if m.Standby.PrimaryConnInfo == "" && m.Standby.RestoreCommand == "" && m.RestoreCommand == "" {
			return fmt.Errorf("%w: a standby needs a primary conninfo or a restore command", ErrInvalid)
		}
		if s := m.Standby.PrimarySlotName; s != "" && SlotName(s) != s {
			return fmt.Errorf("%w: primary slot name %q: want 1-63 of [a-z0-9_]", ErrInvalid, s)
		}
		fields["primary conninfo"] = m.Standby.PrimaryConnInfo
		fields["standby restore command"] = m.Standby.RestoreCommand
		fields["recovery target timeline"] = m.Standby.RecoveryTargetTimeline
	}
	for field, v := range fields {
		if !validValue(v) {
			return fmt.Errorf("%w: %s contains a line break or NUL byte", ErrInvalid, field)
		}
	}
	return m.validateHBA()
}

// validateParameters is ValidateParameters: the API and the CLI accept
// exactly what renders.
func (m Member) validateParameters() error { return ValidateParameters(m.Parameters) }

func (m Member) validateHBA() error {
	for i, line := range m.HBA {
		if !validValue(line) {
			return fmt.Errorf("%w: hba line %d contains a line break or NUL byte", ErrInvalid, i+1)
		}
	}
	for field, role := range map[string]string{"superuser": m.Superuser, "replication user": m.ReplicationUser} {
		if strings.ContainsAny(role, "\"\n\r\x00") {
			return fmt.Errorf("%w: %s %q: a role name in pg_hba.conf cannot hold '\"' or a line break", ErrInvalid, field, role)
		}
	}
	return nil
}

// IsOwned reports whether the agent sets parameter name itself, so the
// cluster's parameters may not (archive_command aside, which is owned only
// while Member.ArchiveCommand is set). Names ignore case.
func IsOwned(name string) bool { return slices.Contains(owned, strings.ToLower(name)) }

// Defaults returns the agent's parameter defaults, which the cluster's
// parameters override name by name.
func Defaults() map[string]string { return maps.Clone(defaults) }

// validName reports whether s reads as a parameter name in
// postgresql.conf: an identifier, or two joined by '.' for an extension's
// placeholder ("auto_explain.log_min_duration").
func validName(s string) bool {
	first, second, qualified := strings.Cut(s, ".")
	return validIdent(first) && (!qualified || validIdent(second))
}

func validIdent(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, c := range []byte(s) {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// validValue reports whether s can be written as one quoted value: the
// lexer's strings end at a line break, and C strings at NUL.
func validValue(s string) bool { return !strings.ContainsAny(s, "\n\r\x00") }
