// Package basebackup takes a physical base backup of a running PostgreSQL
// server, primary or replica, straight into the archive's object store.
//
// How: one physical replication connection sends BASE_BACKUP in the
// PostgreSQL 15 option syntax and reads the COPY stream it answers with
// (typed CopyData messages: 'n' new archive, 'd' data, 'm' manifest, 'p'
// progress). Each archive (base.tar, one <oid>.tar per tablespace, and the
// backup manifest) streams through the codec (compression, encryption)
// into storage Put, which s3store turns into a parallel multipart upload.
// Nothing is staged on local disk, so a backup needs no scratch volume the
// size of the database. The stream is sent by the server as one sequence,
// so parallelism is in the pipeline (receive, encode, upload run
// concurrently), not across files. jackc/pglogrepl's base backup helpers
// expect the pre-15 protocol (one CopyOutResponse per tablespace) and read
// tablespace sizes into an int8, so this package speaks the protocol itself
// over pgconn.
//
// Self-contained backups: the command asks for WAL (the WAL written
// between start and stop rides at the end of base.tar) with WAIT false,
// rather than waiting for the stop segment to reach the archive. Reasons:
// a backup then restores to its consistency point even if archiving is
// broken or behind; waiting for the archiver from a replica needs
// archive_mode = always there; and "wait" hangs forever when
// archive_command fails. The cost is storing the backup-period WAL twice
// (a few segments for a quiet server). A temporary replication slot made on
// the same connection before BASE_BACKUP pins that WAL until the stream
// ends, so a long backup of a busy server cannot lose it to recycling.
//
// Completion: backup.json (catalog.Meta) is written last with Create; see
// package catalog. A failed backup removes what it stored, best effort.
//
// What it deliberately does not do: no incremental backups, no scheduling,
// no retention (package retention), no choosing which member to back up.
package basebackup
