package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Sentinel errors; see the package doc for when each is returned.
var (
	ErrFormat      = errors.New("not an archive object of a known format")
	ErrChecksum    = errors.New("archive object corrupt or truncated")
	ErrKeyRequired = errors.New("archive object is encrypted and no key was given")
	ErrWrongKey    = errors.New("archive object was encrypted with a different key")
)

const (
	magic   = "TNRA"
	version = 1

	flagEncrypted = 1

	saltSize        = 32
	fingerprintSize = 8
	fixedHeaderSize = len(magic) + 4 // version, compression, flags, reserved
	crcSize         = 4

	kindData    = 'D'
	kindTrailer = 'T'

	recordHeaderSize = 5         // kind, length
	chunkSize        = 256 << 10 // compressed bytes per data record
	trailerSize      = 16        // plaintext length, XXH64
	// maxPayload bounds what a reader allocates for one record: four
	// times the chunk size the writer uses, so the chunk size can grow
	// without a format version, plus the GCM tag.
	maxPayload = 4*chunkSize + 16
)

// Compression algorithm ids in the header.
var compressionIDs = map[Compression]byte{None: 0, Zstd: 1, LZ4: 2}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// header is the decoded object header.
type header struct {
	compression Compression
	encrypted   bool
	salt        []byte
	fingerprint []byte
	raw         []byte // as written, CRC included: the AEAD's additional data
}

func (h header) marshal() []byte {
	b := make([]byte, 0, fixedHeaderSize+saltSize+fingerprintSize+crcSize)
	b = append(b, magic...)
	var flags byte
	if h.encrypted {
		flags |= flagEncrypted
	}
	b = append(b, version, compressionIDs[h.compression], flags, 0)
	if h.encrypted {
		b = append(b, h.salt...)
		b = append(b, h.fingerprint...)
	}
	return binary.BigEndian.AppendUint32(b, crc32c(b))
}

// readHeader reads and checks the header. It returns ErrFormat for
// something that is not ours (or newer) and ErrChecksum for a damaged one.
func readHeader(r io.Reader) (header, error) {
	fixed := make([]byte, fixedHeaderSize)
	if _, err := io.ReadFull(r, fixed); err != nil {
		return header{}, sourceError("read header", err, ErrFormat)
	}
	if string(fixed[:len(magic)]) != magic {
		return header{}, fmt.Errorf("read header: %w: magic %q", ErrFormat, fixed[:len(magic)])
	}
	if v := fixed[len(magic)]; v != version {
		return header{}, fmt.Errorf("read header: %w: version %d, this build reads %d", ErrFormat, v, version)
	}
	h := header{encrypted: fixed[len(magic)+2]&flagEncrypted != 0}
	rest := crcSize
	if h.encrypted {
		rest += saltSize + fingerprintSize
	}
	raw := append(fixed, make([]byte, rest)...)
	if _, err := io.ReadFull(r, raw[fixedHeaderSize:]); err != nil {
		return header{}, sourceError("read header", err, ErrChecksum)
	}
	body := raw[:len(raw)-crcSize]
	if binary.BigEndian.Uint32(raw[len(body):]) != crc32c(body) {
		return header{}, fmt.Errorf("read header: %w: header CRC mismatch", ErrChecksum)
	}
	if err := h.decodeFields(fixed, body); err != nil {
		return header{}, err
	}
	h.raw = raw
	return h, nil
}

func (h *header) decodeFields(fixed, body []byte) error {
	comp, flags, reserved := fixed[len(magic)+1], fixed[len(magic)+2], fixed[len(magic)+3]
	for c, id := range compressionIDs {
		if id == comp {
			h.compression = c
		}
	}
	switch {
	case h.compression == "":
		return fmt.Errorf("read header: %w: unknown compression %d", ErrFormat, comp)
	case flags&^flagEncrypted != 0 || reserved != 0:
		return fmt.Errorf("read header: %w: unknown flags %#x/%#x", ErrFormat, flags, reserved)
	}
	if h.encrypted {
		h.salt = body[fixedHeaderSize : fixedHeaderSize+saltSize]
		h.fingerprint = body[fixedHeaderSize+saltSize:]
	}
	return nil
}

// sourceError classifies a read error of the underlying reader: an early
// end means the object is short (what), anything else is the source's own
// failure (an outage) and passes through unclassified.
func sourceError(op string, err error, short error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: %w: object ends early", op, short)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// fingerprint identifies a key without revealing it, so a reader can tell
// a wrong key from a corrupt object.
func fingerprint(key []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, key, nil, "tenure codec v1 key fingerprint", fingerprintSize)
}

// objectAEAD derives the object's key from the configured key and salt.
func objectAEAD(key, salt []byte) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, key, salt, "tenure codec v1 object key", KeySize)
	if err != nil {
		return nil, fmt.Errorf("derive object key: %w", err)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("derive object key: %w", err)
	}
	return cipher.NewGCM(block)
}

// checkKey compares key's fingerprint with the header's.
func checkKey(h header, key []byte) error {
	if len(key) != KeySize {
		return fmt.Errorf("%w: key is %d bytes, want %d", ErrWrongKey, len(key), KeySize)
	}
	fp, err := fingerprint(key)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(fp, h.fingerprint) != 1 {
		return fmt.Errorf("%w: key fingerprint %x, object's %x", ErrWrongKey, fp, h.fingerprint)
	}
	return nil
}

// nonce is the STREAM nonce: record counter, then 1 for the final record.
func nonce(dst []byte, counter uint64, final bool) []byte {
	dst = append(dst[:0], 0, 0, 0)
	dst = binary.BigEndian.AppendUint64(dst, counter)
	if final {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// additionalData binds a record to its object's header and its kind.
func additionalData(dst, headerRaw []byte, kind byte) []byte {
	return append(append(dst[:0], headerRaw...), kind)
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
