package s3store_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"testing"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/walarchive/storage/s3store"
)

// BenchmarkObject64MiB measures Put and Get of a 64 MiB object of random
// bytes against versitygw on loopback, through a reader of unknown size.
// The server writes to the local disk, so the figures bound what the
// client and server add, not what a network to S3 allows.
//
//	go test -run '^$' -bench Object64MiB -benchtime 10x ./walarchive/storage/s3store/
func BenchmarkObject64MiB(b *testing.B) {
	srv := testenv.StartS3(b)
	data := make([]byte, 64<<20)
	_, _ = rand.Read(data)
	for _, tc := range []struct{ partMiB, concurrency int }{{16, 4}, {16, 1}, {8, 8}} {
		cfg := config(srv, srv.NewBucket(b))
		cfg.PartSize, cfg.Concurrency = int64(tc.partMiB)<<20, tc.concurrency
		s, err := s3store.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		name := fmt.Sprintf("part=%dMiB/concurrency=%d", tc.partMiB, tc.concurrency)
		b.Run("Put/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := s.Put(b.Context(), "bench", struct{ io.Reader }{bytes.NewReader(data)}); err != nil {
					b.Fatal(err)
				}
			}
		})
		if tc.concurrency != 4 {
			continue
		}
		b.Run("Get", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				rc, err := s.Get(b.Context(), "bench")
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, rc)
				rc.Close()
				if err != nil || n != int64(len(data)) {
					b.Fatalf("read %d bytes, %v", n, err)
				}
			}
		})
	}
}
