package codec

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// BenchmarkCodec encodes and decodes a 16 MiB WAL-like segment. MB/s is
// of plaintext; ratio is encoded/plain size. See doc.go for the numbers.
func BenchmarkCodec(b *testing.B) {
	data := walLike(16<<20, 42)
	cases := []struct {
		name string
		o    Options
	}{
		{"zstd-1", Options{Compression: Zstd, Level: 1}},
		{"zstd-3", Options{Compression: Zstd, Level: 3}},
		{"lz4", Options{Compression: LZ4}},
		{"none", Options{Compression: None}},
		{"zstd-1-aes", Options{Compression: Zstd, Level: 1, Key: testKey(1)}},
		{"lz4-aes", Options{Compression: LZ4, Key: testKey(1)}},
	}
	for _, tc := range cases {
		obj := encode(b, data, tc.o)
		ratio := float64(len(obj)) / float64(len(data))
		b.Logf("%s: ratio %.3f", tc.name, ratio)
		b.Run("encode/"+tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				w, err := NewWriter(io.Discard, tc.o)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := w.Write(data); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("decode/"+tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(obj), tc.o.Key)
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, r); err != nil || n != int64(len(data)) {
					b.Fatal(fmt.Sprint(n, err))
				}
				r.Close()
			}
		})
	}
}
