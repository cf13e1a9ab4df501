package codec

import (
	"bufio"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/cespare/xxhash/v2"
)

// NewReader reads the header from r and returns a reader of the decoded
// object. key is needed for encrypted objects and ignored otherwise. The
// reader returns io.EOF only after the trailer matched; Close releases the
// decoder (it does not close r).
func NewReader(r io.Reader, key []byte) (io.ReadCloser, error) {
	src := bufio.NewReaderSize(r, 64<<10)
	h, err := readHeader(src)
	if err != nil {
		return nil, err
	}
	rr := &recordReader{src: src, aad: h.raw}
	if h.encrypted {
		if key == nil {
			return nil, ErrKeyRequired
		}
		if err := checkKey(h, key); err != nil {
			return nil, err
		}
		if rr.aead, err = objectAEAD(key, h.salt); err != nil {
			return nil, err
		}
	}
	dec, release, err := newDecompressor(rr, h.compression)
	if err != nil {
		return nil, err
	}
	return &reader{rr: rr, dec: dec, release: release, sum: xxhash.New()}, nil
}

type reader struct {
	rr      *recordReader
	dec     io.Reader
	release func()
	sum     *xxhash.Digest
	n       uint64
	err     error // sticky, io.EOF once verified
}

func (r *reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.dec.Read(p)
	_, _ = r.sum.Write(p[:n])
	r.n += uint64(n)
	switch {
	case err == io.EOF:
		err = r.finish()
	case err != nil:
		err = r.classify(err)
	}
	r.err = err
	return n, err
}

// classify tells a failure of the source (passed through) from a
// decompressor that choked on what it was given (corruption).
func (r *reader) classify(err error) error {
	if r.rr.err != nil && r.rr.err != io.EOF {
		return r.rr.err
	}
	if IsInvalid(err) {
		return err
	}
	return fmt.Errorf("decode: %w: %v", ErrChecksum, err)
}

// finish checks, once the decompressor has ended, that the records end
// with the trailer right after it and that the trailer matches.
func (r *reader) finish() error {
	if n, err := io.Copy(io.Discard, r.rr); err != nil {
		return r.classify(err)
	} else if n > 0 {
		return fmt.Errorf("decode: %w: %d bytes after the end of the compressed stream", ErrChecksum, n)
	}
	t := r.rr.trailer
	if t == nil {
		return fmt.Errorf("decode: %w: no trailer", ErrChecksum)
	}
	length, sum := binary.BigEndian.Uint64(t), binary.BigEndian.Uint64(t[8:])
	if length != r.n || sum != r.sum.Sum64() {
		return fmt.Errorf("decode: %w: trailer says %d bytes with XXH64 %016x, decoded %d bytes with %016x",
			ErrChecksum, length, sum, r.n, r.sum.Sum64())
	}
	if _, err := r.rr.src.ReadByte(); err == nil {
		return fmt.Errorf("decode: %w: data after the trailer", ErrChecksum)
	} else if err != io.EOF {
		return fmt.Errorf("decode: %w", err)
	}
	return io.EOF
}

func (r *reader) Close() error {
	if r.release != nil {
		r.release()
		r.release = nil
	}
	if r.err == nil {
		r.err = errors.New("codec: read after close")
	}
	return nil
}

// IsInvalid reports whether err says the object itself is bad or
// unreadable with the key given (ErrChecksum, ErrFormat, ErrWrongKey,
// ErrKeyRequired), as opposed to the source failing (an outage).
func IsInvalid(err error) bool {
	return errors.Is(err, ErrChecksum) || errors.Is(err, ErrFormat) || errors.Is(err, ErrWrongKey) || errors.Is(err, ErrKeyRequired)
}

// recordReader yields the payloads of data records and keeps the trailer.
type recordReader struct {
	src     *bufio.Reader
	aead    cipher.AEAD
	aad     []byte // the header
	counter uint64
	buf     []byte // current payload, unread part
	store   []byte
	nonce   []byte
	ad      []byte
	trailer []byte // set once the trailer was read
	err     error  // sticky; io.EOF after the trailer
}

func (rr *recordReader) Read(p []byte) (int, error) {
	for len(rr.buf) == 0 {
		if rr.err != nil {
			return 0, rr.err
		}
		rr.err = rr.next()
	}
	n := copy(p, rr.buf)
	rr.buf = rr.buf[n:]
	return n, nil
}

// next reads one record into buf (data) or trailer.
func (rr *recordReader) next() error {
	var hdr [recordHeaderSize]byte
	if _, err := io.ReadFull(rr.src, hdr[:]); err != nil {
		return sourceError("read record", err, ErrChecksum)
	}
	kind, size := hdr[0], binary.BigEndian.Uint32(hdr[1:])
	if kind != kindData && kind != kindTrailer {
		return fmt.Errorf("read record %d: %w: kind %#x", rr.counter, ErrChecksum, kind)
	}
	if size > maxPayload {
		return fmt.Errorf("read record %d: %w: length %d", rr.counter, ErrChecksum, size)
	}
	if cap(rr.store) < int(size) {
		rr.store = make([]byte, size)
	}
	payload := rr.store[:size]
	if _, err := io.ReadFull(rr.src, payload); err != nil {
		return sourceError("read record", err, ErrChecksum)
	}
	payload, err := rr.open(kind, payload)
	if err != nil {
		return err
	}
	if kind == kindData {
		rr.buf = payload
		return nil
	}
	if len(payload) != trailerSize {
		return fmt.Errorf("read trailer: %w: %d bytes", ErrChecksum, len(payload))
	}
	rr.trailer = append([]byte(nil), payload...)
	return io.EOF
}

// open authenticates and decrypts a sealed payload in place.
func (rr *recordReader) open(kind byte, payload []byte) ([]byte, error) {
	counter := rr.counter
	rr.counter++
	if rr.aead == nil {
		return payload, nil
	}
	rr.nonce = nonce(rr.nonce, counter, kind == kindTrailer)
	rr.ad = additionalData(rr.ad, rr.aad, kind)
	out, err := rr.aead.Open(payload[:0], rr.nonce, payload, rr.ad)
	if err != nil {
		return nil, fmt.Errorf("read record %d: %w: authentication failed", counter, ErrChecksum)
	}
	return out, nil
}
