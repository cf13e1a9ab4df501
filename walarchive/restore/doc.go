// Package restore turns a base backup and the archived WAL into a data
// directory that recovers to a chosen target: latest, immediate
// (consistency), a time, an LSN, a transaction ID or a named restore
// point, on the latest, current or a given timeline.
//
// Decide, then act. Observe lists the archive (backups, WAL, timeline
// histories). Decide is pure: it picks the newest completed backup whose
// consistency point precedes the target and lies on the target
// timeline's history, lists every archived segment recovery will fetch
// (per segment, the newest timeline on the path that covers it, as
// PostgreSQL's XLogFileReadAnyTLI does), and refuses with ErrNoBackup,
// ErrWALMissing ("WAL gap at segment X"), ErrTimeline or
// ErrTargetNotReached before anything is written. Execute carries the
// plan out and decides nothing.
//
// How far recovery reads is known for LSN targets. For time targets the
// archive's object times bound it: a segment stored before the target time
// holds only earlier WAL, so recovery needs at least up to the first
// segment stored at or after the target (less one second, because S3
// reports Last-Modified to the second); without one, PostgreSQL would stop
// with "recovery ended before configured recovery target was reached", so
// Decide refuses. For latest, xid and name targets the position is
// unknown, so all archived WAL past the backup must be gap-free; for xid
// and name the newest backup is used unless one is chosen by ID.
//
// Execute restores only into a missing or empty directory (ErrNotEmpty
// otherwise, with nothing changed); downloads each archive in parallel
// ranged GETs (rangeReader), decodes, checks the backup's SHA-256 and
// untars with O_EXCL|O_NOFOLLOW, refusing absolute or ".." paths and any
// symlink but the backup's own pg_tblspc links; sets 0700/0600; writes
// backup_manifest (for pg_verifybackup), the recovery settings appended
// to postgresql.auto.conf (as pg_basebackup -R does, because the agent
// owns postgresql.conf) and recovery.signal. It does not fsync: PostgreSQL
// syncs the data directory itself when it starts recovery from a backup.
//
// Never end early. A restore to latest records in the plan, and in the
// data directory (EndFile), how far the archive's WAL goes: the start of
// its last segment on the target timeline's path. PostgreSQL ends
// recovery at the first file restore_command reports missing and at the
// first invalid record, and for a latest target has nothing to compare
// with; End.Check on where recovery ended (ReadReached: the new
// timeline's history file) turns "promoted on a history cut short" into
// ErrStoppedShort, naming where it stopped and where the archive ends.
// Whoever runs the recovery (tenure restore, the agent's clone
// bootstrap) checks it, and on failure puts IncompleteMarker back with
// the reason (MarkIncomplete) instead of leaving a directory that looks
// usable. Unreadable WAL (store down, corrupt object) never reaches
// postgres as "missing": tenure-agent wal-fetch aborts recovery then.
//
// What it deliberately does not do: start postgres, rewrite the restored
// cluster's archive settings (a restored copy that should not archive into
// the source's archive must be started with archive_mode off), or guess
// where an xid or restore point lies.
package restore
