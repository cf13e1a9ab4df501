package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/walarchive/storage"
)

// Option adjusts the suite to a backend's documented limits.
type Option func(*config)

type config struct {
	atomicCreate bool
}

// NonAtomicCreate skips the concurrent Create race, for a backend whose
// Create is documented as check-then-write (s3store with conditional
// writes disabled). Sequential Create semantics are still checked.
func NonAtomicCreate() Option { return func(c *config) { c.atomicCreate = false } }

// Run runs the conformance suite. newStore must return an empty store that
// no other call shares (a fresh directory, bucket or prefix); it may
// register cleanups on t.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store, opts ...Option) {
	cfg := config{atomicCreate: true}
	for _, o := range opts {
		o(&cfg)
	}
	tests := []struct {
		name string
		run  func(t *testing.T, s storage.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Overwrite", testOverwrite},
		{"Create", testCreate},
		{"CreateLarge", testCreateLarge},
		{"Range", testRange},
		{"RangeAcrossParts", testRangeAcrossParts},
		{"Stat", testStat},
		{"List", testList},
		{"ListStopEarly", testListStopEarly},
		{"Delete", testDelete},
		{"NotFound", testNotFound},
		{"InvalidKey", testInvalidKey},
		{"CancelPut", testCancelPut},
		{"CancelOverwrite", testCancelOverwrite},
		{"ReaderError", testReaderError},
	}
	if cfg.atomicCreate {
		tests = append(tests, struct {
			name string
			run  func(t *testing.T, s storage.Store)
		}{"CreateRace", testCreateRace})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newStore(t))
		})
	}
}

// opTimeout bounds each store call: generous for a 20 MiB upload under
// -race on two CPUs, short enough that a hang fails instead of timing out
// the whole binary.
const opTimeout = 60 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), opTimeout)
	t.Cleanup(cancel)
	return ctx
}

// content returns n pseudo-random bytes determined by seed.
func content(seed uint64, n int) []byte {
	b := make([]byte, n)
	rng := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16)})
	_, _ = rng.Read(b)
	return b
}

// unsized hides every method but Read, so backends cannot learn the size
// (bytes.Reader's Len, Seek, WriterTo) and must stream.
type unsized struct{ r io.Reader }

func (u unsized) Read(p []byte) (int, error) { return u.r.Read(p) }

func stream(b []byte) io.Reader { return unsized{bytes.NewReader(b)} }

func put(t *testing.T, s storage.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(testContext(t), key, stream(data)); err != nil {
		t.Fatalf("Put(%q, %d bytes): %v", key, len(data), err)
	}
}

func get(t *testing.T, s storage.Store, key string) []byte {
	t.Helper()
	b, err := storage.ReadAll(testContext(t), s, key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return b
}

// checkBytes compares large payloads by size and digest so a mismatch
// prints two lines, not megabytes.
func checkBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if len(got) != len(want) || sha256.Sum256(got) != sha256.Sum256(want) {
		t.Errorf("%s: got %d bytes (sha256 %x), want %d bytes (sha256 %x)",
			what, len(got), sha256.Sum256(got), len(want), sha256.Sum256(want))
	}
}

func checkNotFound(t *testing.T, s storage.Store, key string) {
	t.Helper()
	if info, err := s.Stat(testContext(t), key); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat(%q) = %+v, %v; want ErrNotFound", key, info, err)
	}
}

func keys(t *testing.T, s storage.Store, prefix string) []string {
	t.Helper()
	var got []string
	for info, err := range s.List(testContext(t), prefix) {
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		got = append(got, info.Key)
	}
	return got
}
