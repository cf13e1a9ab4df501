// Package walsvc is the WAL service inside tenure-agent: a long-lived
// process that archive_command and restore_command hand their work to
// over a unix socket, so that archiving runs in parallel and recovery
// does not wait one round trip per segment.
//
// # Why
//
// PostgreSQL runs archive_command once per file, serially, and waits for
// it. A fresh process per 16 MiB segment that starts an S3 client and
// uploads alone caps archiving at one segment per upload round trip; a
// busy primary that writes WAL faster than that grows a backlog in pg_wal
// until the disk fills. restore_command has the same shape on the way
// back. WAL-G's daemon mode and pgBackRest's async archiving exist for
// this reason; this package is ours.
//
// # What it does
//
//   - Push (archive_command): on a request for file F the server first
//     queues every file postgres has marked ready (pg_wal/archive_status/
//     *.ready), in postgres's own order (history files first, then WAL
//     order) with F ahead of all, and uploads them Config.Concurrency at a
//     time. It answers F's request when F is stored, or with the error
//     (the client exits non-zero and postgres retries). Later requests
//     for files uploaded ahead are answered at once, unless the file
//     changed since (inode, size or mtime). Concurrent requests for one
//     file share its upload. A failed upload is forgotten, so the next
//     request retries it; after a failure only requested files are
//     uploaded until one succeeds, so a dead S3 is not hammered with the
//     whole backlog on every postgres retry. Stored uploads are forgotten
//     once postgres has renamed their .ready to .done, which bounds memory
//     by the backlog.
//   - Fetch (restore_command): a segment is served from the prefetch
//     spool (a rename) when present, else fetched directly; then the next
//     Config.Prefetch segments of its timeline are downloaded into the
//     spool, stopping at the first one the archive lacks (its end, which
//     is normal). History files, .partial and backup history files are
//     fetched as asked and never prefetched. The spool never holds more
//     than Prefetch+Concurrency segments (others are evicted on every
//     fetch), is emptied when no fetch came for Config.SpoolIdle, and on
//     start and stop.
//   - Protocol: one request per connection, one JSON line each way, with
//     a version field; see protocol.go. The client (Push, Fetch) returns
//     ErrNoServer when nothing able answers (no socket, refused, another
//     protocol version, another data directory, connection lost), and the
//     subcommand then works standalone; push and fetch are idempotent, so
//     doing work twice is safe.
//
// # Where things live
//
// The socket is SocketName, "pg_wal/pgsql_tmp.tenure-wal.sock", relative
// to the data directory (the commands' working directory: no 107-byte
// sun_path problem), mode 0600; a stale socket file is removed on start
// unless a live server answers on it (ErrInUse). The spool is
// "pg_wal/pgsql_tmp.tenure-prefetch". The "pgsql_tmp" prefix matters:
// pg_rewind copies every file of the source's data directory it does not
// exclude, and reading a socket fails it (ENXIO); it skips paths
// containing "/pgsql_tmp" (and would otherwise copy the source's spool
// and delete ours). pg_basebackup never sends pg_wal's contents, and
// PostgreSQL ignores entries of pg_wal that are not WAL file names.
//
// # How the agent starts it
//
//	svc, err := walsvc.New(walsvc.Config{...walsvc.Default() with DataDir}, archiver, archiver, log.Named("walsvc"))
//	registry.MustRegister(svc.Collector())
//	go svc.Run(ctx) // returns when ctx ends
//
// where archiver is the *wal.Archiver the standalone subcommands use. Run
// waits until DataDir/pg_wal exists (the agent may start before initdb or
// a clone), listens, and listens again when the socket disappears (a
// re-clone replaced the data directory). Serve is the same on a listener
// the caller made with Listen.
//
// # Numbers
//
// make bench-archive (BenchmarkWALPush): pgbench -i -s 40 makes a backlog
// of ~31 segments while archiving is paused, then archive_command (a
// fork of a client binary per file, as in production) drains it into
// versitygw on the same 2-core machine (shared with other test suites,
// so expect ±20%):
//
//	standalone, one process and upload per file  91 MB/s
//	service, concurrency 1                        78 MB/s, p99 upload 241 ms
//	service, concurrency 2                       124 MB/s, p99 upload 311 ms
//	service, concurrency 4                       125 MB/s, p99 upload 605 ms
//	service, concurrency 8                       120 MB/s, p99 upload 1309 ms
//	restore, no prefetch                         186 MB/s
//	restore, prefetch 8                          216 MB/s
//
// On one box with a local S3 the CPU (S3 server, signing, postgres) is the
// limit, so parallelism gains ~1.6x and flattens at 2-4; against a remote
// S3 each upload also waits for network round trips that parallel
// uploads overlap, which is why DefaultConcurrency is 4 rather than 2:
// the p99 cost at 4 (0.6 s per 16 MiB segment) is far below any
// archive_timeout, and more than 4 only raised latency here.
//
// # What it deliberately does not do
//
// No compression, encryption or checksums: the Pusher and Fetcher (the
// wal package) do that. No state that must survive a restart: what is
// stored is in the archive, what is pending is in archive_status. No
// authentication beyond the socket's mode: only the postgres user can
// connect. It never deletes WAL or .ready files; postgres does.
package walsvc
