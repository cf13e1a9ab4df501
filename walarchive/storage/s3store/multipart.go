package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
)

// partDrain bounds how long part requests already in flight may run on
// after the caller cancels a Put. Cutting them off at once is what leaves
// parts behind: the server may finish writing a part whose request the
// client abandoned after the upload was aborted, which recreates the upload
// (seen with versitygw; S3 documents the same for AWS). Letting them finish
// first, then aborting, leaves nothing; a cancelled Put returns within
// one part's upload time, or partDrain when S3 does not answer.
const partDrain = 10 * time.Second

// abortTimeout bounds the aborts after a failed or cancelled upload.
const abortTimeout = 30 * time.Second

// abortRetryWait is the first pause before repeating an abort that left
// the upload in place.
const abortRetryWait = 50 * time.Millisecond

// multipart is one multipart upload in flight.
type multipart struct {
	s      *Store
	caller context.Context         // the Put's: stops reading src and waiting for buffers
	ctx    context.Context         // the parts': cancelled on a failed part, or partDrain after caller
	cancel context.CancelCauseFunc // cancels ctx
	key    string                  // object name in the bucket
	id     string                  // upload ID

	wg    sync.WaitGroup
	free  chan *[]byte // buffers back from finished parts
	bufs  int          // buffers taken from the pool
	mu    sync.Mutex
	parts []minio.CompletePart
}

// putMultipart uploads first (a full part) and the rest of src.
func (s *Store) putMultipart(ctx context.Context, key string, src io.Reader, first *[]byte, exclusive bool) (err error) {
	id, err := s.core.NewMultipartUpload(ctx, s.cfg.Bucket, s.object(key), minio.PutObjectOptions{})
	if err != nil {
		s.parts.Put(first)
		return mapError(err)
	}
	pctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stopDrain := context.AfterFunc(ctx, func() {
		t := time.NewTimer(partDrain)
		defer t.Stop()
		select {
		case <-t.C:
			cancel(context.Cause(ctx))
		case <-pctx.Done():
		}
	})
	m := &multipart{s: s, caller: ctx, ctx: pctx, cancel: cancel, key: s.object(key), id: id,
		free: make(chan *[]byte, s.cfg.Concurrency), bufs: 1}
	defer func() {
		m.wg.Wait() // parts finish, fail, or are cut off after partDrain
		stopDrain()
		cancel(nil)
		m.release()
		if err != nil {
			m.abort(ctx)
		}
	}()
	if err := m.send(src, first); err != nil {
		return err
	}
	m.wg.Wait()
	if err := context.Cause(pctx); err != nil {
		return err // a part failed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	slices.SortFunc(m.parts, func(a, b minio.CompletePart) int { return a.PartNumber - b.PartNumber })
	return s.publish(ctx, key, exclusive, func() error {
		_, err := s.core.CompleteMultipartUpload(ctx, s.cfg.Bucket, m.key, id, m.parts, s.putOptions(exclusive))
		return err
	})
}

// send starts one upload per part as it fills buffers from src, waiting
// for a free buffer once Concurrency parts are in flight. buf is full.
func (m *multipart) send(src io.Reader, buf *[]byte) error {
	for num := 1; ; num++ {
		if err := m.stopped(); err != nil {
			m.free <- buf
			return err
		}
		if num > MaxParts {
			m.free <- buf
			return fmt.Errorf("object larger than %d parts of %d bytes; raise PartSize", MaxParts, m.s.cfg.PartSize)
		}
		part, size := buf, len(*buf) // the goroutine's own copies
		m.wg.Go(func() { m.uploadPart(num, part, size) })
		if size < int(m.s.cfg.PartSize) {
			return nil // that was the last, short part
		}
		next, err := m.nextBuffer()
		if err != nil {
			return err
		}
		read, err := io.ReadFull(src, *next)
		switch {
		case errors.Is(err, io.EOF): // the previous part ended the object
			m.free <- next
			return nil
		case err == nil || errors.Is(err, io.ErrUnexpectedEOF):
			*next = (*next)[:read]
			buf = next
		default:
			m.free <- next
			return err
		}
	}
}

// stopped is the reason to stop sending parts: a failed part or the
// caller's cancellation.
func (m *multipart) stopped() error {
	if err := context.Cause(m.ctx); err != nil {
		return err
	}
	return m.caller.Err()
}

// nextBuffer takes a buffer from the pool until Concurrency are in use,
// then waits for a part to finish.
func (m *multipart) nextBuffer() (*[]byte, error) {
	if m.bufs < m.s.cfg.Concurrency {
		m.bufs++
		return m.s.parts.Get().(*[]byte), nil
	}
	select {
	case b := <-m.free:
		*b = (*b)[:cap(*b)]
		return b, nil
	case <-m.ctx.Done():
		return nil, context.Cause(m.ctx)
	case <-m.caller.Done():
		return nil, m.caller.Err()
	}
}

func (m *multipart) uploadPart(num int, buf *[]byte, n int) {
	defer func() { m.free <- buf }()
	data := (*buf)[:n]
	md5b64, sha256hex := m.s.sums(data)
	part, err := m.s.core.PutObjectPart(m.ctx, m.s.cfg.Bucket, m.key, m.id, num, bytes.NewReader(data), int64(n),
		minio.PutObjectPartOptions{Md5Base64: md5b64, Sha256Hex: sha256hex, DisableContentSha256: true})
	if err != nil {
		if cause := context.Cause(m.ctx); cause != nil {
			err = cause
		}
		m.cancel(fmt.Errorf("part %d: %w", num, mapError(err)))
		return
	}
	m.mu.Lock()
	m.parts = append(m.parts, minio.CompletePart{PartNumber: num, ETag: part.ETag})
	m.mu.Unlock()
}

// release returns the buffers to the pool once no part is in flight.
func (m *multipart) release() {
	for range m.bufs {
		b := <-m.free
		*b = (*b)[:cap(*b)]
		m.s.parts.Put(b)
	}
}

// abort discards the uploaded parts, on a context of its own because the
// caller's may be the reason for the failure, and repeats until the
// upload is gone (a part that failed on the client may still land on the
// server). If it never goes, a bucket lifecycle rule
// (AbortIncompleteMultipartUpload) removes the parts; the object itself
// was never visible.
func (m *multipart) abort(ctx context.Context) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	for wait := abortRetryWait; ; wait *= 2 {
		err := m.s.core.AbortMultipartUpload(actx, m.s.cfg.Bucket, m.key, m.id)
		if err == nil || minio.ToErrorResponse(err).Code == minio.NoSuchUpload {
			_, err = m.s.core.ListObjectParts(actx, m.s.cfg.Bucket, m.key, m.id, 0, 1)
			if minio.ToErrorResponse(err).Code == minio.NoSuchUpload {
				return
			}
		}
		select {
		case <-actx.Done():
			return
		case <-time.After(wait):
		}
	}
}
