// Package codec frames every object of the archive: compression, optional
// client-side encryption and an end-to-end checksum, streamed so that
// neither side ever holds a whole object.
//
// Format (version 1), all integers big-endian:
//
//	header:  "TNRA" | version 1 | compression | flags | 0
//	         [flags&encrypted: salt (32) | key fingerprint (8)]
//	         CRC-32C of the header bytes before it
//	records: kind ('D' data or 'T' trailer) | length (4) | payload
//
// Data records carry the compressed stream in chunks of up to 256 KiB.
// The trailer, always the last record, carries the plaintext's length and
// its XXH64. Without encryption payloads are stored as they are; with it
// each payload is sealed with AES-256-GCM under a key derived for this
// object (HKDF-SHA256 of the configured key and the random salt), nonce =
// record counter and a final-record flag, and the header plus the kind
// byte as additional data. That is the STREAM construction (Hoang, Reyhanitabar,
// Rogaway, Vizár 2015), as in age and Tink: records cannot be reordered,
// dropped or replayed from another object, and because only the trailer
// is sealed as final, cutting the object anywhere is detected. A random
// per-object key instead of random nonces under one key lifts GCM's limit
// of 2^32 random nonces per key, which a busy cluster's WAL (16 chunks per
// segment) would reach in a few years.
//
// Errors a caller branches on: ErrFormat (not an object of this codec, or
// from a newer version), ErrChecksum (corrupt or truncated: the header CRC,
// a GCM tag, the decompressor or the trailer disagrees), ErrKeyRequired
// (encrypted, no key given) and ErrWrongKey (the key's fingerprint differs
// from the one in the header, so a wrong key is reported as such rather
// than as corruption). Corruption is reported at the latest when the
// reader reaches the end, never after it has returned io.EOF; callers that
// must not act on corrupt bytes (restore_command) therefore write to a
// temporary file and publish it only after io.EOF. Errors of the
// underlying reader (a dropped connection) are passed through unwrapped,
// so an outage is never taken for corruption.
//
// Why XXH64 and not SHA-256 for the checksum: it guards against accidents
// (bit rot, a truncated upload, a bug), not attackers — encryption's GCM
// tags do that — and runs at several GB/s, so it costs nothing next to
// compression. Why 256 KiB records: the GCM tag and record header add 21
// bytes per record (0.01%), and a reader needs one record of memory.
//
// Compression: zstd (klauspost/compress, default) or lz4 (pierrec/lz4),
// or none for data that does not compress. BenchmarkCodec on a 16 MiB
// WAL-like segment, one core of a shared 2-CPU VM (MB/s of plaintext,
// encode / decode, encoded size):
//
//	zstd level 1 (default)  179 / 400-500   20.7%
//	zstd level 3            121 / 608       21.9%
//	lz4                     263 / 1000      25.7%
//	none                   4177 / 4984     100%
//	zstd 1 + AES-256-GCM    179 / 503
//	lz4 + AES-256-GCM       178 / 874
//
// Real WAL compresses better than this synthetic segment: pgbench's WAL
// (TestArchiveUnderPgbench in package wal) is stored in 7% of its size at
// zstd level 1. AES-GCM (AES-NI) and XXH64 cost little next to
// compression. Why
// pierrec/lz4 for lz4: it is the maintained pure-Go implementation of the
// lz4 frame format (what WAL-G uses too), so objects can be inspected with
// the lz4 tool after stripping our framing; klauspost/compress was already
// in the module graph through minio-go.
//
// What it deliberately does not do: no key management (the caller reads
// the key), no seeking, no multi-object framing.
package codec
