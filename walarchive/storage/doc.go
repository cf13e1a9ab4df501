// Package storage is the seam between the WAL archive and where its bytes
// live: an S3 bucket (s3store), a mounted filesystem such as an NFS export or
// a PersistentVolume (fsstore), or memory (memstore, for unit tests).
//
// The contract, kept by every implementation and checked by the shared
// conformance suite in storetest (which the real backends run against a real
// S3 server and a real filesystem, not mocks):
//
//   - Keys are '/'-separated relative paths (see ValidateKey). A key that is
//     not valid is refused with ErrInvalidKey before any I/O, so an archive
//     laid out with a bad key fails in unit tests, not in production.
//   - Put streams an object of unknown size and replaces any object under the
//     key. It never holds the whole object in memory: s3store holds at most
//     Concurrency parts of PartSize bytes, fsstore a copy buffer.
//   - Create is Put that refuses to replace: it fails with ErrExists when the
//     key already exists and leaves the stored bytes untouched. The WAL layer
//     relies on it to never overwrite an archived segment; on ErrExists it
//     compares contents, because a retried Create whose first attempt landed
//     (a lost reply) also ends in ErrExists. How atomic Create is depends on
//     the backend and is stated on each.
//   - A Put or Create that returns an error, including a cancelled context,
//     leaves no object visible under the key (and an existing one unchanged).
//     Readers never see a partly written object.
//   - Get, GetRange and Stat of a missing key fail with an error that wraps
//     ErrNotFound. Nothing else wraps it: a missing bucket, a permission
//     problem or an outage is a different error, because "segment not in
//     the archive" ends recovery and must never be reported for "archive
//     unreachable".
//   - List yields the objects whose key starts with a prefix (a plain string
//     prefix, as in S3: "a/b" matches "a/b/c" and "a/bc"; use "a/b/" for the
//     "directory"), sorted by key in byte order, each at most once.
//   - Delete of a missing key succeeds: retention can be re-run after a crash.
//
// What it deliberately does not do: no rename or copy (S3 has no atomic
// rename), no metadata or content types, no versioning, no locking between
// writers beyond Create. Compression and encryption belong to the layer
// above, which streams through Put and Get.
package storage
