package s3store

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/minio/minio-go/v7"

	"github.com/tenure-pg/tenure/walarchive/storage"
)

// conflictRetries: AWS answers a conditional write racing another with
// 409 ConditionalRequestConflict and asks the client to retry.
const conflictRetries = 3

// Put implements storage.Store. An object smaller than PartSize is one
// PUT; a larger one a multipart upload of PartSize parts, Concurrency at
// a time.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) error {
	if err := s.upload(ctx, key, r, false); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// Create implements storage.Store; see CreateMode for how atomic it is.
func (s *Store) Create(ctx context.Context, key string, r io.Reader) error {
	if err := s.upload(ctx, key, r, true); err != nil {
		return fmt.Errorf("create %s: %w", key, err)
	}
	return nil
}

func (s *Store) upload(ctx context.Context, key string, r io.Reader, exclusive bool) error {
	if err := storage.ValidateKey(key); err != nil {
		return err
	}
	if exclusive {
		// Refuse early in both modes: a retried archive command should
		// not upload 16 MiB only to be refused at the end.
		if err := s.headAbsent(ctx, key); err != nil {
			return err
		}
	}
	src := storage.ContextReader(ctx, r)
	buf := s.parts.Get().(*[]byte)
	n, err := io.ReadFull(src, *buf)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		defer s.parts.Put(buf)
		return s.putSingle(ctx, key, (*buf)[:n], exclusive)
	}
	if err == nil {
		// A full buffer may be the whole object: a 16 MiB WAL segment at
		// the default PartSize is one PUT, not three multipart requests.
		var peek [1]byte
		var k int
		k, err = io.ReadFull(src, peek[:])
		if k == 0 && errors.Is(err, io.EOF) {
			defer s.parts.Put(buf)
			return s.putSingle(ctx, key, *buf, exclusive)
		}
		src = io.MultiReader(bytes.NewReader(peek[:k]), src)
	}
	if err != nil {
		s.parts.Put(buf)
		return err
	}
	return s.putMultipart(ctx, key, src, buf, exclusive)
}

// headAbsent is nil when key holds no object and ErrExists when it does.
func (s *Store) headAbsent(ctx context.Context, key string) error {
	_, err := s.Stat(ctx, key)
	switch {
	case err == nil:
		return storage.ErrExists
	case errors.Is(err, storage.ErrNotFound):
		return nil
	}
	return err
}

// putOptions sets If-None-Match: * for a conditional Create.
func (s *Store) putOptions(exclusive bool) minio.PutObjectOptions {
	opts := minio.PutObjectOptions{DisableContentSha256: true} // see sums
	if exclusive && s.cfg.CreateMode == CreateConditional {
		opts.SetMatchETagExcept("*")
	}
	return opts
}

func (s *Store) putSingle(ctx context.Context, key string, data []byte, exclusive bool) error {
	md5b64, sha256hex := s.sums(data)
	return s.publish(ctx, key, exclusive, func() error {
		_, err := s.core.PutObject(ctx, s.cfg.Bucket, s.object(key), bytes.NewReader(data), int64(len(data)), md5b64, sha256hex, s.putOptions(exclusive))
		return err
	})
}

// sums returns the Content-MD5 the server checks the body against and,
// over plain HTTP, the payload SHA-256 for the signature. Requests carry
// DisableContentSha256, which turns off minio-go's default for plain HTTP:
// aws-chunked streaming signatures. Those cost the same hashing, and
// versitygw v1.8.0 mis-parses them for empty bodies, leaving bytes on the
// kept-alive connection that fail the next request with 400 "An error
// occurred when parsing the HTTP request" (seen here). Over HTTPS, TLS
// protects the payload and it is sent unsigned, as the AWS SDKs do.
func (s *Store) sums(data []byte) (md5b64, sha256hex string) {
	m := md5.Sum(data)
	md5b64 = base64.StdEncoding.EncodeToString(m[:])
	if !s.secure {
		h := sha256.Sum256(data)
		sha256hex = hex.EncodeToString(h[:])
	}
	return md5b64, sha256hex
}

// publish runs the request that makes the object visible: the second
// check of CreateHeadThenPut, retries of a 409 conflict, and 412 as
// ErrExists.
func (s *Store) publish(ctx context.Context, key string, exclusive bool, do func() error) error {
	if exclusive && s.cfg.CreateMode == CreateHeadThenPut {
		if err := s.headAbsent(ctx, key); err != nil {
			return err
		}
	}
	var err error
	for range conflictRetries {
		err = do()
		resp := minio.ToErrorResponse(err)
		if resp.StatusCode != http.StatusConflict || resp.Code != "ConditionalRequestConflict" {
			break
		}
	}
	if err == nil {
		s.bucketSeen.Store(true)
		return nil
	}
	if exclusive && minio.ToErrorResponse(err).StatusCode == http.StatusPreconditionFailed {
		return storage.ErrExists
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return mapError(err)
}
