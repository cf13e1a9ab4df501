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
//   - Protocol: one request per connection, one JSON line from the client
//     and two back (CodeAccepted at once, then the outcome), with a
//     version field; see protocol.go. The client (Push, Fetch) returns
//     ErrNoServer when nothing able answers (no socket, refused, no
//     acknowledgement within seconds from a hung agent, another protocol
//     version, another data directory, connection lost), and the
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
//	cfg := walsvc.Default()
//	cfg.DataDir = agentCfg.DataDir // and SegmentSize if initdb --wal-segsize
//	svc, err := walsvc.New(cfg, archiver, archiver, log.Named("walsvc"))
//	registry.MustRegister(svc.Collector())
//	go svc.Run(ctx) // returns nil when ctx ends
//
// where archiver is the *wal.Archiver the standalone subcommands build
// (wal.LoadConfig, wal.OpenStore, wal.New). Give it a wal Concurrency of
// at least twice cfg.Concurrency: uploads and prefetch downloads each use
// up to cfg.Concurrency, and the Archiver queues calls beyond its own
// bound. Run waits until DataDir/pg_wal exists (the agent may start
// before initdb or a clone), listens, and listens again when the socket
// disappears (a re-clone replaced the data directory). Serve does the
// same work on a listener made with Listen. The subcommands reach it
// through the handoff hook in cmd/tenure-agent/wal.go, which dials
// SocketName relative to the working directory and falls back to
// standalone on ErrNoServer.
//
// # Numbers
//
// make bench-archive (BenchmarkWALPush): pgbench -i -s 40 makes a
// backlog of ~31 segments while archiving is paused, then archive_command
// runs the real tenure-agent binary (one process per file, as in
// production) and the drain into versitygw on the same 2-core machine is
// timed; MB/s counts 16 MiB per segment before zstd, p99 is one upload.
// Then the archive is restored through tenure-agent wal-fetch, one
// process per segment as restore_command does. The machine is shared with
// other test suites: runs vary by up to ±30%.
//
//	                                  local S3        +30 ms per request
//	standalone wal-push               61-190 MB/s     -
//	service, concurrency 1            163-249 MB/s    176 MB/s, p99 199 ms
//	service, concurrency 2            124-197 MB/s    -
//	service, concurrency 4            175-341 MB/s    320 MB/s, p99 438 ms
//	service, concurrency 8            120-377 MB/s    288 MB/s, p99 560 ms
//	wal-fetch, no prefetch            254 MB/s        176 MB/s
//	wal-fetch, prefetch 8             332-390 MB/s    409 MB/s
//
// With a local S3 the two cores (S3 server, zstd, signing, postgres) are
// the limit; the "+30 ms" column adds a stand-in round trip to every
// upload and download (TENURE_BENCH_RTT_MS), where overlapping requests is
// what counts. Concurrency 4 was best or within noise of the best in
// every run and 8 only raised p99, hence DefaultConcurrency = 4; the
// standalone baseline loses mostly to one S3 client set-up and one serial
// upload per process.
//
// A drained backlog measures throughput; its per-segment p99 is mostly
// queueing for the two cores. The steady case (RESULT wal-push-steady,
// TENURE_BENCH_STEADY_S, default 30) archives while pgbench writes WAL as
// fast as it can (two clients of 100-row bulk inserts, ~100 kB of WAL per
// transaction): pgbench reached 92 MB/s of WAL, 173 segments, per-segment
// p99 75 ms, max 82 ms, and at most 2 segments were ever waiting (.ready):
// the archive keeps up with the writer at the default concurrency 4.
//
// # What it deliberately does not do
//
// No compression, encryption or checksums: the Pusher and Fetcher (the
// wal package) do that. No state that must survive a restart: what is
// stored is in the archive, what is pending is in archive_status. No
// authentication beyond the socket's mode: only the postgres user can
// connect. It never deletes WAL or .ready files; postgres does.
package walsvc
