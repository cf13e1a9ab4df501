package pgconf

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ErrRefused wraps the errors of ValidateParameters about a parameter the
// cluster's configuration may not set at all (as opposed to a malformed
// one); both also wrap ErrInvalid.
var ErrRefused = errors.New("parameter not allowed")

// refused are the parameters the cluster's configuration may not set, with
// why. A member's REST API and the CLI write the dynamic configuration,
// and the configuration runs as the postgres user: a parameter that runs a
// command or loads a library is code execution for whoever may PATCH
// /config, and one that moves files, sockets or the replication source
// takes the agent's own settings away from it. The agent sets the
// archive and restore commands itself from --archive-config.
var refused = map[string]string{
	"archive_command":                        "runs a shell command; the agent sets it from --archive-config",
	"archive_library":                        "loads a library; the agent archives through archive_command",
	"archive_mode":                           "the agent turns archiving on with --archive-config",
	"archive_cleanup_command":                "runs a shell command",
	"recovery_end_command":                   "runs a shell command",
	"restore_command":                        "runs a shell command; the agent sets it from --archive-config",
	"ssl_passphrase_command":                 "runs a shell command",
	"ssl_passphrase_command_supports_reload": "belongs to ssl_passphrase_command",
	"session_preload_libraries":              "loads libraries",
	"local_preload_libraries":                "loads libraries",
	"dynamic_library_path":                   "chooses where libraries load from",
	"jit_provider":                           "loads a library",
	"config_file":                            "agent-owned file",
	"data_directory":                         "agent-owned file",
	"hba_file":                               "agent-owned file",
	"ident_file":                             "agent-owned file",
	"external_pid_file":                      "writes a file anywhere",
	"include":                                "a directive, not a parameter",
	"include_dir":                            "a directive, not a parameter",
	"include_if_exists":                      "a directive, not a parameter",
	"listen_addresses":                       "agent-owned (--listen)",
	"port":                                   "agent-owned (--port)",
	"unix_socket_directories":                "agent-owned (--socket-dir)",
	"unix_socket_group":                      "the socket is trusted locally: agent-owned",
	"unix_socket_permissions":                "the socket is trusted locally: agent-owned",
	"primary_conninfo":                       "agent-owned: set from the leader",
	"primary_slot_name":                      "agent-owned: set from the member name",
	"synchronous_standby_names":              "agent-owned: set from synchronous_mode",
	"ssl_cert_file":                          "agent-owned file",
	"ssl_key_file":                           "agent-owned file",
	"ssl_ca_file":                            "agent-owned file",
	"ssl_crl_file":                           "agent-owned file",
	"ssl_crl_dir":                            "agent-owned file",
	"ssl_dh_params_file":                     "agent-owned file",
}

// refusedPrefixes are families refused like refused: recovery targets are
// the restore's (point-in-time recovery), recovery_target_timeline the
// agent's.
var refusedPrefixes = map[string]string{
	"recovery_target": "agent-owned: set by restore and by the agent for standbys",
}

// PreloadAllowed are the libraries shared_preload_libraries may name: the
// contrib modules and extensions a Postgres image is expected to ship.
// Anything else would be code chosen by whoever can write the dynamic
// configuration, loaded into the postmaster.
var PreloadAllowed = []string{
	"auth_delay", "auto_explain", "bg_mon", "passwordcheck", "pg_cron", "pg_hint_plan",
	"pg_partman_bgw", "pg_prewarm", "pg_qualstats", "pg_stat_kcache", "pg_stat_statements",
	"pg_wait_sampling", "pgaudit", "set_user", "timescaledb",
}

// enums are parameters with a closed set of values worth checking before
// postgres reads them: a wal_level below replica stops a server that has
// WAL senders from starting at all.
var enums = map[string][]string{
	"wal_level": {"replica", "logical"},
}

// ValidateParameters is the one check of a cluster's postgres parameters:
// the REST API's PATCH /config, `tenure edit-config` and Render all call
// it, so a configuration that was accepted can always be rendered. Errors
// wrap ErrInvalid (and ErrRefused for a refused name) and name the
// parameter. Names ignore case.
func ValidateParameters(params map[string]string) error {
	seen := make(map[string]string, len(params))
	for _, name := range slices.Sorted(maps.Keys(params)) {
		v, key := params[name], strings.ToLower(name)
		if err := validateParameter(name, key, v); err != nil {
			return err
		}
		if seen[key] != "" {
			return fmt.Errorf("%w: parameter %q given twice (%q and %q; names ignore case)", ErrInvalid, key, seen[key], name)
		}
		seen[key] = name
	}
	return nil
}

func validateParameter(name, key, v string) error {
	if !validName(name) {
		return fmt.Errorf("%w: parameter %q: not a parameter name (letters, digits, '_', one optional '.')", ErrInvalid, name)
	}
	if why := refusedReason(key); why != "" {
		return fmt.Errorf("%w: %w: parameter %q cannot be set in the cluster's configuration: %s", ErrInvalid, ErrRefused, name, why)
	}
	if !validValue(v) {
		return fmt.Errorf("%w: parameter %q: value contains a line break or NUL byte", ErrInvalid, name)
	}
	if allowed, ok := enums[key]; ok && !slices.Contains(allowed, strings.ToLower(strings.TrimSpace(v))) {
		return fmt.Errorf("%w: parameter %q: %q, want one of %s", ErrInvalid, name, v, strings.Join(allowed, ", "))
	}
	if key == "shared_preload_libraries" {
		for _, lib := range splitList(v) {
			if !slices.Contains(PreloadAllowed, lib) {
				return fmt.Errorf("%w: %w: parameter %q: library %q is not among the allowed ones (%s)",
					ErrInvalid, ErrRefused, name, lib, strings.Join(PreloadAllowed, ", "))
			}
		}
	}
	return nil
}

// refusedReason is why key may not be set, or "".
func refusedReason(key string) string {
	if why, ok := refused[key]; ok {
		return why
	}
	for p, why := range refusedPrefixes {
		if strings.HasPrefix(key, p) {
			return why
		}
	}
	return ""
}

// IsRefused reports whether the cluster's configuration may not set the
// parameter name at all. Names ignore case.
func IsRefused(name string) bool { return refusedReason(strings.ToLower(name)) != "" }

// splitList reads a GUC list value ("a, b", `"a","b"`) into its items.
func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		item = strings.Trim(strings.TrimSpace(item), `"`)
		if item != "" {
			out = append(out, item)
		}
	}
	return out
}
