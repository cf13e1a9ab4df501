package codec

import (
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// maxWindow bounds the memory a zstd stream may make the reader allocate.
// The writer's window is at most 8 MiB; a larger one in a header is
// corruption (or hostile), not a reason to allocate gigabytes.
const maxWindow = 64 << 20

// newCompressor returns the compressing writer onto w for o, which passed
// Validate.
func newCompressor(w io.Writer, o Options) (io.WriteCloser, error) {
	switch o.Compression {
	case Zstd:
		// One goroutine per stream: the archiver runs several pushes at
		// once, and the encoder's async mode buffers a block per core.
		enc, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(o.Level)),
			zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false))
		if err != nil {
			return nil, fmt.Errorf("zstd encoder: %w", err)
		}
		return enc, nil
	case LZ4:
		enc := lz4.NewWriter(w)
		opts := []lz4.Option{lz4.ChecksumOption(false), lz4.ConcurrencyOption(1), lz4.BlockSizeOption(lz4.Block1Mb)}
		if o.Level > 0 {
			opts = append(opts, lz4.CompressionLevelOption(lz4.CompressionLevel(1<<(8+o.Level))))
		}
		if err := enc.Apply(opts...); err != nil {
			return nil, fmt.Errorf("lz4 encoder: %w", err)
		}
		return enc, nil
	}
	return nopCloser{w}, nil
}

// newDecompressor returns the decompressing reader over r and a function
// that releases it.
func newDecompressor(r io.Reader, c Compression) (io.Reader, func(), error) {
	switch c {
	case Zstd:
		dec, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxWindow),
			zstd.WithDecoderMaxMemory(maxWindow))
		if err != nil {
			return nil, nil, fmt.Errorf("zstd decoder: %w", err)
		}
		return dec, dec.Close, nil
	case LZ4:
		return lz4.NewReader(r), func() {}, nil
	}
	return r, func() {}, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
