// Package s3store is a storage.Store on an S3 bucket: AWS S3 or any
// S3-compatible server (MinIO, Ceph RGW, versitygw, ...).
//
// # Client: minio-go v7, not aws-sdk-go-v2
//
// Both were built here against the same program (client, credentials,
// multipart uploader). minio-go v7.4.1 pulls 18 modules and gives an
// 8.6 MB binary; aws-sdk-go-v2 (config + s3 + transfermanager) pulls 16
// AWS-owned modules, 116 non-standard packages and an 11.2 MB binary, and
// its uploader moved packages in 2025 (feature/s3/manager is deprecated).
// What decided it:
//   - Multipart of unknown size: both stream, but we drive the multipart
//     calls ourselves through minio.Core (NewMultipartUpload,
//     PutObjectPart, CompleteMultipartUpload, AbortMultipartUpload), so
//     memory is exactly Concurrency x PartSize, each part carries a
//     Content-MD5 the server checks, a Create can send If-None-Match on
//     the Complete, and a failed or cancelled upload is aborted on a
//     context of its own after its in-flight parts settle (aborting at
//     once left parts behind on versitygw in 3 of 5 cancelled uploads: a
//     part the client gave up on lands after the abort).
//   - Path or virtual-host style is one option in either
//     (BucketLookupPath/DNS here); not a differentiator.
//   - Credentials: static keys, the AWS_* environment variables, and IAM:
//     web identity (IRSA: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN via
//     STS AssumeRoleWithWebIdentity), EKS Pod Identity and ECS container
//     credentials, then the EC2 instance profile, refreshed before expiry.
//   - It is what the test environment's server was validated with
//     (put/get/list/multipart against versitygw and MinIO).
//
// # Create
//
// S3 has no atomic create-if-absent except a conditional write: PUT (and
// CompleteMultipartUpload) with "If-None-Match: *", supported by AWS S3
// since August 2024 and by versitygw v1.8.0. That is the default
// (CreateConditional); the conformance suite's concurrent Create race
// passes with it against the real server, and fails without it (two of
// eight writers "created" the key). For servers that ignore the header,
// CreateHeadThenPut checks with HEAD before the upload and again just
// before publishing it: a concurrent writer that publishes between the
// second HEAD and our PUT/Complete (one round trip, milliseconds) is
// overwritten. The WAL layer's compare-on-conflict step does not close
// that window; only conditional writes do.
//
// # Errors
//
// storage.ErrNotFound wraps NoSuchKey only. A HEAD response has no body, so
// a 404 from Stat cannot say whether the key or the bucket is missing: the
// first such 404 per Store checks the bucket, and a missing bucket is
// reported as ErrNoBucket, never as a missing object (a restore that
// believes a segment is absent ends recovery early). Check verifies bucket
// and credentials at start.
//
// # Throughput
//
// BenchmarkObject64MiB, client and versitygw sharing 2 CPUs on loopback:
// Put 195 MB/s (16 MiB parts, 4 at a time; 133 MB/s one at a time), Get
// 1.4 GB/s. The client's share of a Put is MD5 (45% of its CPU), the
// plain-HTTP payload SHA-256 (21%) and copying; over HTTPS the SHA-256 is
// not computed.
//
// What it does not do: server-side encryption settings, storage classes,
// object lock, versioned buckets, or listing with delimiters.
package s3store
