// Package pgctl controls and inspects one PostgreSQL 15 instance: it runs
// initdb, pg_basebackup, pg_rewind and pg_controldata, supervises the
// postmaster as a child process, and answers questions over a unix-socket
// connection as the superuser (status, WAL positions, slots, roles,
// promotion).
//
// Why a supervised child and not pg_ctl: the agent must notice at once
// that postgres died (Exited is closed when the child is reaped), and
// pg_ctl detaches the server. Start execs `postgres -D <dir>` directly in its
// own process group, appends its output to a log file (default
// postgres.log beside the data directory), and returns when the
// server accepts connections on its socket (polled, no fixed sleeps; 57P03
// "starting up" keeps polling) or with the last log lines when it exits
// first. Port and socket directory are passed on the command line, so the
// instance is reachable where pgctl connects even if a postgresql.conf
// copied by pg_basebackup or pg_rewind says otherwise; everything else
// comes from the files pgconf renders.
//
// Invariants:
//   - Nothing here runs as root: every child runs as the current user, or
//     as Config.Credential when set (tests run as root and set the
//     postgres user's).
//   - Never two postmasters on one data directory: Start, InitDB, Rewind
//     and Wipe refuse (ErrAlreadyRunning) while this Instance's child or a
//     live postmaster.pid owner runs.
//   - The child gets SIGQUIT (immediate shutdown) if the agent dies: a
//     primary whose agent can no longer renew the leader lease must stop
//     taking writes, not run on unsupervised.
//   - Kill returns only when the postmaster and every child are gone and
//     nothing is attached to the server's shared memory, and Start first
//     waits (up to 10 s) for the same after a server died on its own: a
//     crash restart never fails with "pre-existing shared memory block is
//     still in use" (package internal/postmaster checks what PostgreSQL
//     checks). Zombies count as gone, so a PID 1 that reaps late costs
//     nothing.
//   - Data is only removed where the caller said so (Wipe), or where pgctl
//     created it itself (a failed Basebackup into an empty directory).
//   - Passwords are never logged: connection strings are not logged at all,
//     and EnsureRole sends a SCRAM verifier, not the password, when it can.
//
// What it deliberately does not do: it decides nothing. Whether to promote,
// rewind, re-clone or wipe is the HA core's decision; pgctl reports
// conditions the caller branches on as sentinel errors (ErrRewindImpossible,
// ErrNotEmpty, ...). It does not render configuration (package pgconf) and
// does not adopt a postmaster it did not start, beyond refusing to start a
// second one and signalling it on Stop, Kill and Reload. Connections are
// opened per call (about 3 ms over the unix socket) rather than pooled, so
// nothing is left half-open across a restart.
package pgctl
