// Package wal archives PostgreSQL's WAL files and fetches them back: the
// work behind `tenure-agent wal-push %p` (archive_command) and
// `tenure-agent wal-fetch %f %p` (restore_command), and behind the agent's
// WAL service (walsvc), which calls the same Archiver.
//
// Each file becomes one object under layout.Archive.WAL(name), encoded by
// codec (zstd by default, optionally AES-256-GCM), streamed from the file
// through the encoder into the store without holding it in memory.
//
// Invariants:
//   - Never overwrite. Push stores with storage.Create. When the name is
//     taken it reads the archived object back and compares it with the
//     local file: identical bytes are success, because a push whose reply
//     was lost is retried by postgres and must then succeed (otherwise the
//     archiver stalls and pg_wal fills the disk). Different bytes — two
//     primaries after a split brain writing the same timeline's history
//     file, or a segment re-archived after a restore into the wrong
//     archive — keep the archived object, store the new bytes under
//     "<key>.conflict-<sha256 prefix>" so neither is lost, and fail with
//     ErrConflict naming both keys, for a human to decide.
//   - "Not archived" means not archived. Fetch wraps ErrNotArchived only
//     when the store reports the object missing (storage.ErrNotFound),
//     never for an unreachable store, because restore_command's "no such
//     file" ends recovery: point-in-time recovery would stop early and
//     the transactions after that point would be gone.
//   - No half files. Fetch writes a temporary file beside dest, verifies
//     the codec's checksum and the segment size, fsyncs and renames; a
//     corrupt object leaves nothing behind. Push refuses a segment whose
//     size is not the segment size.
//   - Timeline history, .partial and backup history files are archived
//     exactly like segments (same key scheme, same never-overwrite rule):
//     a lost history file makes a timeline unrestorable.
//
// Status and the Prometheus collector report what this Archiver did. A
// standalone wal-push process lives for one file, so the numbers matter
// in the agent's long-lived WAL service; the .ready backlog gauge is read
// from pg_wal at scrape time and is right in either case.
//
// What it deliberately does not do: no look-ahead uploads or prefetch
// (walsvc does that, calling Push and Fetch), no retries (postgres retries
// archive_command; tenure-agent wal-fetch retries a failed fetch for
// Config.FetchRetry, then aborts archive recovery rather than report the
// file missing), no retention, and no
// reading of flags or environment: main loads the Config.
package wal
