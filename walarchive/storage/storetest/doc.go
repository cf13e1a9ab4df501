// Package storetest is the conformance suite every storage.Store passes:
// memstore in memory, fsstore on a real filesystem and s3store against a
// real S3 server (versitygw, started by package testenv). One suite, so the
// backends cannot drift apart on what a missing key returns or whether
// Create overwrites.
//
// Objects are pseudo-random (seeded, so failures reproduce) and streamed
// through readers that hide their size, because the WAL layer pipes
// compressed output whose size nobody knows in advance. The largest is
// 20 MiB, four 5 MiB parts and a bit, so an S3 store configured with the
// minimum part size exercises multipart uploads, part boundaries and ranges
// across them.
package storetest
