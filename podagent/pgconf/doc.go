// Package pgconf renders a member's PostgreSQL configuration —
// postgresql.conf, pg_hba.conf and standby.signal — from a typed Member
// value, and writes it into a data directory.
//
// The agent owns postgresql.conf entirely. After initdb the original file is
// renamed, once, to postgresql.base.conf; the rendered postgresql.conf
// includes it first (include_if_exists), then sets the member's own
// settings (addresses, port, socket directory, standby connection,
// synchronous standby names, archive command) and the cluster's parameters
// over a small set of defaults a Patroni user expects (wal_level=replica,
// wal_log_hints=on so pg_rewind works without checksums, slots and senders
// for a handful of members, ...). Because pg_basebackup and pg_rewind copy
// the source's postgresql.conf onto the target, the agent re-applies after
// every clone and rewind and before every start; Apply is idempotent and
// reports whether anything changed.
//
// Invariants:
//   - Render is pure and deterministic: the same Member always gives the
//     same bytes (keys sorted, every value quoted), so "changed" is a byte
//     comparison and golden files pin the format.
//   - ValidateParameters is the one check of the cluster's parameters: the
//     REST API's PATCH /config, `tenure edit-config` and Render all run it,
//     so what was accepted always renders. It refuses, naming the
//     parameter, what the agent owns (listen_addresses, port,
//     primary_conninfo, recovery targets, include directives, files) and
//     what would run a command or load a library as the postgres user for
//     whoever may write the configuration (archive_command,
//     restore_command, archive_library, ssl_passphrase_command,
//     shared_preload_libraries outside PreloadAllowed, ...).
//   - Values are quoted the way PostgreSQL's configuration lexer reads them
//     back (single quotes and backslashes doubled); values with line breaks
//     or NUL bytes are rejected, because the lexer cannot represent them.
//   - Files are replaced atomically (temp file, fsync, rename) with mode
//     0600 and the data directory's owner, so a crash never leaves a
//     half-written configuration and a root-run test still gives the files
//     to the server's user.
//   - pg_hba.conf lists the cluster's own lines first, so they can narrow
//     or override the defaults (PostgreSQL uses the first matching line).
//
// What it deliberately does not do: it does not talk to the server. Whether
// a change needs a restart is only hinted (Result.RestartNeeded, from a
// small list of postmaster-context parameters); the running server's
// pg_settings.pending_restart is the authority. It does not edit
// postgresql.auto.conf (ALTER SYSTEM), which PostgreSQL reads after
// postgresql.conf; it only reports agent-owned settings found there
// (Result.Overridden) so the caller can warn. It leaves recovery.signal
// alone (point-in-time restore owns it). It renders no TLS settings yet.
package pgconf
