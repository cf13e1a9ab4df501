package codec

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/cespare/xxhash/v2"
)

// errClosed: a Write after Close.
var errClosed = errors.New("codec: write after close")

// NewWriter returns a writer that encodes what is written to it onto w.
// Close finishes the object (it does not close w); an object without its
// trailer reads as truncated. o must pass Validate.
func NewWriter(w io.Writer, o Options) (io.WriteCloser, error) {
	o = o.Default()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	h := header{compression: o.Compression, encrypted: o.Key != nil}
	f := &framer{out: w, buf: make([]byte, 0, chunkSize)}
	if h.encrypted {
		if err := f.initCipher(&h, o.Key); err != nil {
			return nil, err
		}
	} else {
		h.raw = h.marshal()
	}
	f.aadHeader = h.raw
	if _, err := w.Write(h.raw); err != nil {
		return nil, fmt.Errorf("write header: %w", err)
	}
	comp, err := newCompressor(f, o)
	if err != nil {
		return nil, err
	}
	return &writer{comp: comp, f: f, sum: xxhash.New()}, nil
}

type writer struct {
	comp   io.WriteCloser // compresses into f
	f      *framer
	sum    *xxhash.Digest
	n      uint64
	closed bool
	err    error // sticky: an encoder that failed once has lost bytes
}

func (w *writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.comp.Write(p)
	_, _ = w.sum.Write(p[:n])
	w.n += uint64(n)
	if err != nil {
		w.err = fmt.Errorf("encode: %w", err)
		return n, w.err
	}
	return n, nil
}

// Close flushes the compressor and writes the last data record and the
// trailer.
func (w *writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		_ = w.comp.Close()
		return w.err
	}
	if err := w.comp.Close(); err != nil {
		w.err = fmt.Errorf("finish compression: %w", err)
		return w.err
	}
	if err := w.f.flush(); err != nil {
		w.err = err
		return err
	}
	trailer := binary.BigEndian.AppendUint64(nil, w.n)
	trailer = binary.BigEndian.AppendUint64(trailer, w.sum.Sum64())
	if err := w.f.record(kindTrailer, trailer, true); err != nil {
		w.err = err
	}
	return w.err
}

// framer cuts the compressed stream into records, sealing each when the
// object is encrypted.
type framer struct {
	out       io.Writer
	buf       []byte // pending data record payload
	aead      cipher.AEAD
	aadHeader []byte
	counter   uint64
	scratch   []byte // record header + sealed payload
	nonce     []byte
	aad       []byte
}

// initCipher draws the salt, derives the object key and completes h.
func (f *framer) initCipher(h *header, key []byte) error {
	h.salt = make([]byte, saltSize)
	if _, err := rand.Read(h.salt); err != nil {
		return fmt.Errorf("draw salt: %w", err)
	}
	fp, err := fingerprint(key)
	if err != nil {
		return err
	}
	h.fingerprint = fp
	if f.aead, err = objectAEAD(key, h.salt); err != nil {
		return err
	}
	h.raw = h.marshal()
	return nil
}

func (f *framer) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), chunkSize-len(f.buf))
		f.buf = append(f.buf, p[:n]...)
		p, written = p[n:], written+n
		if len(f.buf) == chunkSize {
			if err := f.flush(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// flush writes the pending data, if any, as one record.
func (f *framer) flush() error {
	if len(f.buf) == 0 {
		return nil
	}
	err := f.record(kindData, f.buf, false)
	f.buf = f.buf[:0]
	return err
}

func (f *framer) record(kind byte, payload []byte, final bool) error {
	rec := append(f.scratch[:0], kind, 0, 0, 0, 0)
	if f.aead != nil {
		f.nonce = nonce(f.nonce, f.counter, final)
		f.aad = additionalData(f.aad, f.aadHeader, kind)
		rec = f.aead.Seal(rec, f.nonce, payload, f.aad)
	} else {
		rec = append(rec, payload...)
	}
	f.counter++
	binary.BigEndian.PutUint32(rec[1:recordHeaderSize], uint32(len(rec)-recordHeaderSize))
	f.scratch = rec
	if _, err := f.out.Write(rec); err != nil {
		return fmt.Errorf("write record %d: %w", f.counter-1, err)
	}
	return nil
}
