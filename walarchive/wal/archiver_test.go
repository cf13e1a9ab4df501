package wal

import (
	"bytes"
	"context"
	"errors"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenure-pg/tenure/walarchive/codec"
	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/storage"
	"github.com/tenure-pg/tenure/walarchive/storage/memstore"
	"github.com/tenure-pg/tenure/walarchive/walname"
)

// testSegSize keeps unit-test segments small: 1 MiB, initdb's minimum.
const testSegSize = walname.MinSize

func testConfig() Config {
	return Config{
		Store:       StoreFS,
		FSRoot:      "/unused", // the tests pass their store to New
		Archive:     layout.Archive{Cluster: "orders", UID: "uid-1", Major: 15},
		SegmentSize: testSegSize,
	}.Default()
}

func newArchiver(t *testing.T, store storage.Store, cfg Config) *Archiver {
	t.Helper()
	a, err := New(cfg, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// writeWAL writes a file named name of size bytes (seeded content) into
// dir and returns its path and content.
func writeWAL(t *testing.T, dir, name string, size int, seed uint64) (string, []byte) {
	t.Helper()
	data := make([]byte, size)
	rng := mrand.New(mrand.NewPCG(seed, 2))
	for i := 0; i < size; i += 64 { // compressible: mostly zeros and counters
		data[i] = byte(rng.Uint32())
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, data
}

func TestPushFetchRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		size int
	}{
		{"000000010000000000000003", int(testSegSize)},
		{"000000010000000000000004.partial", int(testSegSize)},
		{"00000002.history", 41},
		{"000000010000000000000003.00000028.backup", 250},
	}
	for _, key := range []bool{false, true} {
		store, dir := memstore.New(), t.TempDir()
		cfg := testConfig()
		if key {
			cfg.KeyFile = writeKey(t, 1)
		}
		a := newArchiver(t, store, cfg)
		for i, tc := range cases {
			path, data := writeWAL(t, dir, tc.name, tc.size, uint64(i))
			if err := a.Push(t.Context(), path); err != nil {
				t.Fatal(err)
			}
			dest := filepath.Join(dir, "RECOVERYXLOG")
			if err := a.Fetch(t.Context(), tc.name, dest); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(dest); !bytes.Equal(got, data) {
				t.Errorf("%s (key %v): fetched %d bytes differ from the %d pushed", tc.name, key, len(got), len(data))
			}
		}
		raw, err := storage.ReadAll(t.Context(), store, cfg.Archive.WAL(cases[0].name))
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) > int(testSegSize)/4 {
			t.Errorf("stored segment is %d bytes: not compressed", len(raw))
		}
		if s := a.Status(); s.Archived != 4 || s.Fetched != 4 || s.LastArchived != cases[3].name || s.LastArchivedAt.IsZero() {
			t.Errorf("status %+v", s)
		}
	}
}

// TestPushIdenticalTwice: a retry after a lost reply finds the object and
// must succeed, also when several pushes of the file race.
func TestPushIdenticalTwice(t *testing.T) {
	store, dir := memstore.New(), t.TempDir()
	a := newArchiver(t, store, testConfig())
	path, _ := writeWAL(t, dir, "000000010000000000000007", int(testSegSize), 1)
	if err := a.Push(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = a.Push(t.Context(), path) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("repeated push: %v", err)
	}
	if keys := listKeys(t, store, ""); len(keys) != 1 {
		t.Errorf("store holds %v, want the one segment", keys)
	}
}

// TestPushConflictKeepsBoth: different bytes under an archived name keep
// the archived object, store the new one beside it and say so.
func TestPushConflictKeepsBoth(t *testing.T) {
	store, dir := memstore.New(), t.TempDir()
	cfg := testConfig()
	a := newArchiver(t, store, cfg)
	name := "00000002.history"
	first, firstData := writeWAL(t, dir, name, 60, 1)
	if err := a.Push(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	second, secondData := writeWAL(t, other, name, 64, 2)
	err := a.Push(t.Context(), second)
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("push of different bytes: %v, want ErrConflict", err)
	}
	keys := listKeys(t, store, "")
	if len(keys) != 2 || keys[0] != cfg.Archive.WAL(name) || !strings.HasPrefix(keys[1], cfg.Archive.WAL(name)+".conflict-") {
		t.Fatalf("store holds %v", keys)
	}
	for _, k := range keys {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("error %q does not name %s", err, k)
		}
	}
	if diff := cmp.Diff(firstData, decodeKey(t, store, keys[0], nil)); diff != "" {
		t.Errorf("archived object changed")
	}
	if !bytes.Equal(secondData, decodeKey(t, store, keys[1], nil)) {
		t.Errorf("conflict object is not the second file")
	}
	// Pushing the second file again is still a conflict, not a success,
	// and stores nothing new.
	if err := a.Push(t.Context(), second); !errors.Is(err, ErrConflict) {
		t.Errorf("second attempt: %v", err)
	}
	if got := listKeys(t, store, ""); len(got) != 2 {
		t.Errorf("after retry: %v", got)
	}
	if s := a.Status(); s.Failed != 2 || s.LastFailed != name || !strings.Contains(s.LastError, "conflict") {
		t.Errorf("status %+v", s)
	}
}

// TestPushConflictWithCorruptArchivedCopy: an archived object that cannot
// be read back is not "identical"; it is kept, and this file stored beside.
func TestPushConflictWithCorruptArchivedCopy(t *testing.T) {
	store, dir := memstore.New(), t.TempDir()
	cfg := testConfig()
	a := newArchiver(t, store, cfg)
	path, _ := writeWAL(t, dir, "000000010000000000000002", int(testSegSize), 1)
	if err := store.Put(t.Context(), cfg.Archive.WAL("000000010000000000000002"), strings.NewReader("garbage")); err != nil {
		t.Fatal(err)
	}
	err := a.Push(t.Context(), path)
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "unreadable") {
		t.Fatalf("push over a corrupt object: %v", err)
	}
}

func TestPushRefuses(t *testing.T) {
	dir := t.TempDir()
	a := newArchiver(t, memstore.New(), testConfig())
	short, _ := writeWAL(t, dir, "000000010000000000000002", 1000, 1)
	notWAL, _ := writeWAL(t, dir, "postgresql.conf", 10, 1)
	for _, path := range []string{short, notWAL, filepath.Join(dir, "000000010000000000000009"), dir} {
		if err := a.Push(t.Context(), path); err == nil {
			t.Errorf("push %s succeeded", path)
		}
	}
	if s := a.Status(); s.Failed != 4 || s.Archived != 0 {
		t.Errorf("status %+v", s)
	}
}

func TestFetchNotArchived(t *testing.T) {
	dir := t.TempDir()
	a := newArchiver(t, memstore.New(), testConfig())
	dest := filepath.Join(dir, "RECOVERYXLOG")
	for _, name := range []string{"000000010000000000000002", "00000003.history"} {
		if err := a.Fetch(t.Context(), name, dest); !errors.Is(err, ErrNotArchived) {
			t.Errorf("fetch %s: %v, want ErrNotArchived", name, err)
		}
	}
	assertEmptyDir(t, dir)
	if err := a.Fetch(t.Context(), "../etc/passwd", dest); err == nil || errors.Is(err, ErrNotArchived) {
		t.Errorf("fetch of a non-WAL name: %v", err)
	}
	if s := a.Status(); s.FetchFailed != 1 {
		t.Errorf("not-archived counted as failures: %+v", s)
	}
}

// TestFetchOutageIsNotNotArchived: an unreachable store must never read
// as "not archived", which would end recovery.
func TestFetchOutageIsNotNotArchived(t *testing.T) {
	outage := errors.New("dial tcp: connection refused")
	dir := t.TempDir()
	a := newArchiver(t, failingStore{memstore.New(), outage}, testConfig())
	err := a.Fetch(t.Context(), "000000010000000000000002", filepath.Join(dir, "x"))
	if !errors.Is(err, outage) || errors.Is(err, ErrNotArchived) {
		t.Errorf("fetch during outage: %v", err)
	}
	path, _ := writeWAL(t, dir, "000000010000000000000002", int(testSegSize), 1)
	if err := a.Push(t.Context(), path); !errors.Is(err, outage) {
		t.Errorf("push during outage: %v", err)
	}
}

// TestFetchCorruptLeavesNothing: a flipped byte fails the fetch with
// codec.ErrChecksum and leaves neither dest nor a temporary file.
func TestFetchCorruptLeavesNothing(t *testing.T) {
	store, dir := memstore.New(), t.TempDir()
	cfg := testConfig()
	a := newArchiver(t, store, cfg)
	name := "000000010000000000000005"
	path, _ := writeWAL(t, dir, name, int(testSegSize), 3)
	if err := a.Push(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	key := cfg.Archive.WAL(name)
	raw, _ := storage.ReadAll(t.Context(), store, key)
	raw[len(raw)/2] ^= 1
	if err := store.Put(t.Context(), key, bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := a.Fetch(t.Context(), name, filepath.Join(out, "RECOVERYXLOG")); !errors.Is(err, codec.ErrChecksum) {
		t.Fatalf("fetch of corrupt object: %v, want ErrChecksum", err)
	}
	assertEmptyDir(t, out)
}

func TestFetchWrongKey(t *testing.T) {
	store, dir := memstore.New(), t.TempDir()
	cfg := testConfig()
	cfg.KeyFile = writeKey(t, 1)
	name := "000000010000000000000005"
	path, _ := writeWAL(t, dir, name, int(testSegSize), 3)
	if err := newArchiver(t, store, cfg).Push(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	cfg.KeyFile = writeKey(t, 2)
	out := t.TempDir()
	err := newArchiver(t, store, cfg).Fetch(t.Context(), name, filepath.Join(out, "x"))
	if !errors.Is(err, codec.ErrWrongKey) {
		t.Errorf("wrong key: %v", err)
	}
	cfg.KeyFile = ""
	if err := newArchiver(t, store, cfg).Fetch(t.Context(), name, filepath.Join(out, "x")); !errors.Is(err, codec.ErrKeyRequired) {
		t.Errorf("no key: %v", err)
	}
	assertEmptyDir(t, out)
}

// failingStore fails every call like an unreachable server.
type failingStore struct {
	storage.Store
	err error
}

func (f failingStore) Create(context.Context, string, io.Reader) error { return f.err }
func (f failingStore) Get(context.Context, string) (io.ReadCloser, error) {
	return nil, f.err
}

func writeKey(t *testing.T, b byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, bytes.Repeat([]byte{b}, codec.KeySize), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func listKeys(t *testing.T, s storage.Store, prefix string) []string {
	t.Helper()
	var keys []string
	for info, err := range s.List(t.Context(), prefix) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, info.Key)
	}
	return keys
}

func decodeKey(t *testing.T, s storage.Store, key string, k []byte) []byte {
	t.Helper()
	rc, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	r, err := codec.NewReader(rc, k)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind in %s: %s", dir, e.Name())
	}
}
