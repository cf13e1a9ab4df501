package codec

import (
	"errors"
	"fmt"
)

// Compression names a compression algorithm.
type Compression string

// Compression algorithms.
const (
	Zstd Compression = "zstd"
	LZ4  Compression = "lz4"
	None Compression = "none"
)

// KeySize is the length of an encryption key: AES-256.
const KeySize = 32

// Options say how NewWriter encodes an object. Readers need only the key:
// everything else is in the header.
type Options struct {
	// Compression: Zstd (default), LZ4 or None.
	Compression Compression
	// Level is the compression level, 0 for the algorithm's default here:
	// zstd 1-22 (as the zstd tool counts; this implementation has four
	// speeds: 1-2, 3-5, 6-9, 10+), lz4 1-9 (0 is lz4's fast mode). None
	// takes no level.
	Level int
	// Key is nil (no encryption) or KeySize bytes for AES-256-GCM.
	Key []byte
}

// DefaultZstdLevel is zstd's fastest setting: on WAL it compresses within
// a few percent of level 3 at about twice the speed (BenchmarkCodec), and
// archive_command is on the critical path of a busy primary.
const DefaultZstdLevel = 1

// Default fills the zero fields of o.
func (o Options) Default() Options {
	if o.Compression == "" {
		o.Compression = Zstd
	}
	if o.Compression == Zstd && o.Level == 0 {
		o.Level = DefaultZstdLevel
	}
	return o
}

// Validate reports every problem with o at once.
func (o Options) Validate() error {
	var errs []error
	switch o.Compression {
	case Zstd:
		if o.Level < 0 || o.Level > 22 {
			errs = append(errs, fmt.Errorf("codec level %d: zstd takes 1 to 22 (0 for the default)", o.Level))
		}
	case LZ4:
		if o.Level < 0 || o.Level > 9 {
			errs = append(errs, fmt.Errorf("codec level %d: lz4 takes 1 to 9 (0 for fast mode)", o.Level))
		}
	case None:
		if o.Level != 0 {
			errs = append(errs, fmt.Errorf("codec level %d: compression none takes no level", o.Level))
		}
	default:
		errs = append(errs, fmt.Errorf("codec compression %q: want %q, %q or %q", o.Compression, Zstd, LZ4, None))
	}
	if o.Key != nil && len(o.Key) != KeySize {
		errs = append(errs, fmt.Errorf("codec key: %d bytes, want %d (AES-256)", len(o.Key), KeySize))
	}
	return errors.Join(errs...)
}
