package basebackup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/tenure-pg/tenure/walarchive/codec"
	"github.com/tenure-pg/tenure/walarchive/storage"
)

// upload streams one archive (a tar or the manifest) into the store:
//
//	receive loop -> chunk queue -> sha256 + codec -> io.Pipe -> store.Put
//
// The chunk queue lets the connection keep receiving while the encoder
// works on the previous chunks; Put (s3store: parallel multipart) runs in
// its own goroutine. Nothing touches local disk.
type upload struct {
	key     string
	queue   chan []byte
	encDone chan error // result of the encoding goroutine
	putDone chan error // result of Put

	abort  error // set before the queue closes: fail Put instead of completing
	raw    int64 // bytes received (the plain tar), written by the encoder goroutine
	stored int64 // bytes handed to Put
	sum    hash.Hash
}

// queueChunks bounds the memory one upload holds ahead of the encoder:
// the server sends at most 32 KiB per CopyData, so 64 chunks ≈ 2 MiB.
const queueChunks = 64

var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func startUpload(ctx context.Context, st storage.Store, key string, opts codec.Options) (*upload, error) {
	pr, pw := io.Pipe()
	u := &upload{
		key:     key,
		queue:   make(chan []byte, queueChunks),
		encDone: make(chan error, 1),
		putDone: make(chan error, 1),
		sum:     sha256.New(),
	}
	// Put starts first: the codec writes its header into the pipe at once.
	go func() {
		err := st.Put(ctx, key, pr)
		// Unblock the encoder if Put gave up before reading to EOF.
		pr.CloseWithError(fmt.Errorf("put ended: %v", err))
		u.putDone <- err
	}()
	counted := &countingWriter{w: pw, n: &u.stored}
	enc, err := codec.NewWriter(counted, opts)
	if err != nil {
		err = fmt.Errorf("upload %s: %w", key, err)
		pw.CloseWithError(err)
		<-u.putDone
		return nil, err
	}
	go func() { u.encDone <- u.encode(enc, pw) }()
	return u, nil
}

// encode drains the queue into the codec and closes the pipe: with an
// error if anything failed, so Put stores nothing.
func (u *upload) encode(enc io.WriteCloser, pw *io.PipeWriter) error {
	var err error
	for chunk := range u.queue {
		if err == nil {
			u.raw += int64(len(chunk))
			u.sum.Write(chunk)
			_, err = enc.Write(chunk)
		}
		b := chunk[:0]
		chunkPool.Put(&b)
	}
	if err == nil {
		err = u.abort
	}
	if err == nil {
		err = enc.Close()
	}
	if err != nil {
		pw.CloseWithError(err)
		return err
	}
	return pw.Close()
}

// write queues a copy of p.
func (u *upload) write(p []byte) {
	for len(p) > 0 {
		bp := chunkPool.Get().(*[]byte)
		n := min(len(p), cap(*bp))
		chunk := append((*bp)[:0], p[:n]...)
		u.queue <- chunk
		p = p[n:]
	}
}

// close ends the archive and waits until it is stored. On a non-nil
// abort it makes Put fail instead, so no partial object becomes visible.
func (u *upload) close(abort error) (archiveInfo, error) {
	u.abort = abort
	close(u.queue)
	encErr := <-u.encDone
	putErr := <-u.putDone
	switch {
	case abort != nil:
		return archiveInfo{}, abort
	case encErr != nil:
		return archiveInfo{}, fmt.Errorf("encode %s: %w", u.key, encErr)
	case putErr != nil:
		return archiveInfo{}, fmt.Errorf("store %s: %w", u.key, putErr)
	}
	return archiveInfo{Raw: u.raw, Stored: u.stored, SHA256: hex.EncodeToString(u.sum.Sum(nil))}, nil
}

// archiveInfo describes one stored archive.
type archiveInfo struct {
	Raw    int64
	Stored int64
	SHA256 string // of the raw bytes
}

type countingWriter struct {
	w io.Writer
	n *int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	*c.n += int64(n)
	return n, err
}
