package wal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/walarchive/codec"
	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/storage"
	"github.com/tenure-pg/tenure/walarchive/storage/s3store"
	"github.com/tenure-pg/tenure/walarchive/walname"
)

// s3Setup is an Archiver on a fresh bucket of srv, with 16 MiB segments.
type s3Setup struct {
	srv    *testenv.S3
	bucket string
	cfg    Config
	store  *s3store.Store
	a      *Archiver
}

// s3ArchiveConfig is the JSON-able config for srv's bucket; the keys
// come from the environment (see archiverEnv).
func s3ArchiveConfig(srv *testenv.S3, bucket string) Config {
	return Config{
		Store: StoreS3,
		S3: &S3Config{Endpoint: srv.Endpoint(), Region: srv.Region(), Bucket: bucket, PathStyle: true,
			Credentials: s3store.CredentialsEnv},
		Archive: layout.Archive{Prefix: "tenure", Cluster: "pgtest", UID: "b7e3c1d0", Major: 15},
		Timeout: Duration(20 * time.Second),
	}.Default()
}

func newS3Setup(t *testing.T, srv *testenv.S3) s3Setup {
	t.Helper()
	bucket := srv.NewBucket(t)
	cfg := s3ArchiveConfig(srv, bucket)
	sc := cfg.S3.store()
	sc.Credentials, sc.AccessKeyID, sc.SecretAccessKey = s3store.CredentialsStatic, srv.AccessKey(), srv.SecretKey()
	store, err := s3store.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	return s3Setup{srv: srv, bucket: bucket, cfg: cfg, store: store, a: newArchiver(t, store, cfg)}
}

// objectFile is where versitygw's posix backend keeps key's bytes.
func (s s3Setup) objectFile(key string) string {
	return filepath.Join(s.srv.Dir(), "data", s.bucket, filepath.FromSlash(key))
}

// TestS3PushFetch pushes and fetches 16 MiB segments through real S3 and
// reports the rates.
func TestS3PushFetch(t *testing.T) {
	s := newS3Setup(t, testenv.StartS3(t))
	dir, out := t.TempDir(), t.TempDir()
	const n = 8
	names := make([]string, n)
	data := make([][]byte, n)
	var paths []string
	for i := range n {
		names[i] = segName(1, uint64(0x10+i))
		var p string
		p, data[i] = writeWAL(t, dir, names[i], 16<<20, uint64(i))
		paths = append(paths, p)
	}
	began := time.Now()
	for _, p := range paths {
		if err := s.a.Push(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	pushed := time.Since(began)
	began = time.Now()
	for i, name := range names {
		dest := filepath.Join(out, "RECOVERYXLOG")
		if err := s.a.Fetch(t.Context(), name, dest); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(dest); !bytes.Equal(got, data[i]) {
			t.Fatalf("%s: fetched bytes differ", name)
		}
	}
	fetched := time.Since(began)
	mb := float64(n * 16)
	t.Logf("%d x 16 MiB, one at a time: push %v (%.0f MB/s, %v per segment), fetch+verify %v (%.0f MB/s)",
		n, pushed.Round(time.Millisecond), mb*1.048576/pushed.Seconds(), (pushed / n).Round(time.Millisecond),
		fetched.Round(time.Millisecond), mb*1.048576/fetched.Seconds())
}

// TestS3CorruptObject flips one byte of the object in versitygw's data
// directory: the fetch fails with ErrChecksum and leaves no file.
func TestS3CorruptObject(t *testing.T) {
	s := newS3Setup(t, testenv.StartS3(t))
	dir := t.TempDir()
	name := segName(1, 3)
	path, _ := writeWAL(t, dir, name, 16<<20, 7)
	if err := s.a.Push(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	file := s.objectFile(s.cfg.Archive.WAL(name))
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("versitygw object file: %v", err)
	}
	raw[len(raw)*2/3] ^= 0x40
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	err = s.a.Fetch(t.Context(), name, filepath.Join(out, "RECOVERYXLOG"))
	if !errors.Is(err, codec.ErrChecksum) || errors.Is(err, ErrNotArchived) {
		t.Fatalf("fetch of a corrupted object: %v, want ErrChecksum", err)
	}
	assertEmptyDir(t, out)
}

// TestS3IdenticalAndConflict: identical bytes twice succeed, different
// bytes are ErrConflict with both copies recoverable from S3.
func TestS3IdenticalAndConflict(t *testing.T) {
	s := newS3Setup(t, testenv.StartS3(t))
	name := segName(1, 9)
	first, firstData := writeWAL(t, t.TempDir(), name, 16<<20, 1)
	second, secondData := writeWAL(t, t.TempDir(), name, 16<<20, 2)
	for range 2 {
		if err := s.a.Push(t.Context(), first); err != nil {
			t.Fatal(err)
		}
	}
	err := s.a.Push(t.Context(), second)
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("different bytes: %v, want ErrConflict", err)
	}
	keys := listKeys(t, s.store, s.cfg.Archive.WALPrefix())
	if len(keys) != 2 {
		t.Fatalf("archive holds %v, want the segment and its conflict copy", keys)
	}
	if !bytes.Equal(decodeKey(t, s.store, keys[0], nil), firstData) {
		t.Error("archived copy is not the first file")
	}
	if !bytes.Equal(decodeKey(t, s.store, keys[1], nil), secondData) {
		t.Error("conflict copy is not the second file")
	}
	t.Logf("conflict error: %v", err)
}

// TestS3Outage: while the server is down, Fetch fails without
// ErrNotArchived and Push fails; both work again after Start.
func TestS3Outage(t *testing.T) {
	s := newS3Setup(t, testenv.StartS3(t))
	name := segName(1, 4)
	path, _ := writeWAL(t, t.TempDir(), name, 16<<20, 1)
	s.srv.Stop()
	out := t.TempDir()
	began := time.Now()
	err := s.a.Fetch(t.Context(), name, filepath.Join(out, "x"))
	if err == nil || errors.Is(err, ErrNotArchived) || errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("fetch during outage: %v, must not be 'not archived'", err)
	}
	t.Logf("fetch during outage failed after %v: %v", time.Since(began).Round(time.Millisecond), err)
	if err := s.a.Push(t.Context(), path); err == nil {
		t.Fatal("push during outage succeeded")
	}
	if err := s.srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.a.Push(t.Context(), path); err != nil {
		t.Fatalf("push after outage: %v", err)
	}
	if err := s.a.Fetch(t.Context(), name, filepath.Join(out, "x")); err != nil {
		t.Fatalf("fetch after outage: %v", err)
	}
}

// segName names segment no of timeline tli at 16 MiB.
func segName(tli uint32, no uint64) string { return walname.Segment{Timeline: tli, No: no}.Name(0) }

// TestS3WrongKey: an encrypted archive read with another key fails with
// ErrWrongKey, saying so, and leaves no file.
func TestS3WrongKey(t *testing.T) {
	s := newS3Setup(t, testenv.StartS3(t))
	cfg := s.cfg
	cfg.KeyFile = writeKey(t, 1)
	name := segName(1, 5)
	path, data := writeWAL(t, t.TempDir(), name, 16<<20, 3)
	right := newArchiver(t, s.store, cfg)
	if err := right.Push(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(s.objectFile(cfg.Archive.WAL(name)))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, data[:4096]) {
		t.Error("plaintext visible in the stored object")
	}
	cfg.KeyFile = writeKey(t, 2)
	out := t.TempDir()
	err = newArchiver(t, s.store, cfg).Fetch(t.Context(), name, filepath.Join(out, "x"))
	if !errors.Is(err, codec.ErrWrongKey) || errors.Is(err, ErrNotArchived) {
		t.Fatalf("fetch with another key: %v, want ErrWrongKey", err)
	}
	t.Logf("wrong key: %v", err)
	assertEmptyDir(t, out)
	if err := right.Fetch(t.Context(), name, filepath.Join(out, "x")); err != nil {
		t.Fatalf("fetch with the right key: %v", err)
	}
}
