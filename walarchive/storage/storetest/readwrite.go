package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/tenure-pg/tenure/walarchive/storage"
)

const mib = 1 << 20

func testRoundTrip(t *testing.T, s storage.Store) {
	sizes := []int{0, 1, 1000, 5 * mib, 5*mib + 1, 20*mib + 17}
	for i, size := range sizes {
		key := fmt.Sprintf("roundtrip/%d", size)
		data := content(uint64(i), size)
		put(t, s, key, data)
		checkBytes(t, "Get "+key, get(t, s, key), data)
		info, err := s.Stat(testContext(t), key)
		if err != nil {
			t.Fatalf("Stat(%q): %v", key, err)
		}
		if info.Size != int64(size) || info.Key != key {
			t.Errorf("Stat(%q) = key %q size %d, want size %d", key, info.Key, info.Size, size)
		}
	}
}

func testOverwrite(t *testing.T, s storage.Store) {
	first, second := content(1, 6*mib), content(2, 1000)
	put(t, s, "wal/seg", first)
	put(t, s, "wal/seg", second)
	checkBytes(t, "after overwrite", get(t, s, "wal/seg"), second)
	put(t, s, "wal/seg", first)
	checkBytes(t, "after second overwrite", get(t, s, "wal/seg"), first)
}

func testCreate(t *testing.T, s storage.Store) {
	ctx := testContext(t)
	orig := content(3, 4096)
	if err := s.Create(ctx, "wal/000000010000000000000001", stream(orig)); err != nil {
		t.Fatalf("Create of a new key: %v", err)
	}
	err := s.Create(ctx, "wal/000000010000000000000001", stream(content(4, 4096)))
	if !errors.Is(err, storage.ErrExists) {
		t.Fatalf("Create of an existing key = %v, want ErrExists", err)
	}
	checkBytes(t, "after refused Create", get(t, s, "wal/000000010000000000000001"), orig)
	// An empty object exists as much as any other.
	if err := s.Create(ctx, "empty", stream(nil)); err != nil {
		t.Fatalf("Create empty: %v", err)
	}
	if err := s.Create(ctx, "empty", stream([]byte("x"))); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("Create over an empty object = %v, want ErrExists", err)
	}
	// Create is allowed again once the key is deleted.
	if err := s.Delete(ctx, "empty"); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, "empty", stream([]byte("x"))); err != nil {
		t.Fatalf("Create after Delete: %v", err)
	}
	checkBytes(t, "Create after Delete", get(t, s, "empty"), []byte("x"))
}

// testCreateLarge refuses a multipart-sized Create over an existing object
// in both directions: the check must hold at the end of a long upload, not
// only at its start.
func testCreateLarge(t *testing.T, s storage.Store) {
	ctx := testContext(t)
	small, large := content(5, 100), content(6, 11*mib)
	put(t, s, "base/small", small)
	if err := s.Create(ctx, "base/small", stream(large)); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("large Create over a small object = %v, want ErrExists", err)
	}
	checkBytes(t, "small object after refused Create", get(t, s, "base/small"), small)
	if err := s.Create(ctx, "base/large", stream(large)); err != nil {
		t.Fatalf("large Create: %v", err)
	}
	if err := s.Create(ctx, "base/large", stream(small)); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("small Create over a large object = %v, want ErrExists", err)
	}
	checkBytes(t, "large object after refused Create", get(t, s, "base/large"), large)
}

// testCreateRace runs concurrent Creates of one key: exactly one wins, and
// the stored bytes are the winner's.
func testCreateRace(t *testing.T, s storage.Store) {
	const writers = 8
	for round := range 3 {
		key := fmt.Sprintf("race/%d", round)
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				errs[i] = s.Create(testContext(t), key, stream(content(uint64(100+i), 64<<10)))
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: writers %d and %d both created %s", round, winner, i, key)
			case err == nil:
				winner = i
			case !errors.Is(err, storage.ErrExists):
				t.Fatalf("round %d: writer %d: %v", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no writer created %s", round, key)
		}
		checkBytes(t, fmt.Sprintf("round %d winner %d", round, winner), get(t, s, key), content(uint64(100+winner), 64<<10))
	}
}

func testReaderError(t *testing.T, s storage.Store) {
	boom := errors.New("source failed")
	for _, size := range []int{100, 7 * mib} {
		key := fmt.Sprintf("broken/%d", size)
		r := io.MultiReader(stream(content(7, size)), failing{boom})
		if err := s.Put(testContext(t), key, r); !errors.Is(err, boom) {
			t.Errorf("Put(%s) from a failing reader = %v, want the reader's error", key, err)
		}
		r = io.MultiReader(stream(content(7, size)), failing{boom})
		if err := s.Create(testContext(t), key, r); !errors.Is(err, boom) {
			t.Errorf("Create(%s) from a failing reader = %v, want the reader's error", key, err)
		}
		checkNotFound(t, s, key)
	}
	if got := keys(t, s, ""); len(got) != 0 {
		t.Errorf("failed writes left objects: %q", got)
	}
}

type failing struct{ err error }

func (f failing) Read([]byte) (int, error) { return 0, f.err }

func testNotFound(t *testing.T, s storage.Store) {
	ctx := testContext(t)
	put(t, s, "dir/sub/obj", []byte("x"))
	for _, key := range []string{"missing", "dir/missing", "dir", "dir/sub", "dir/sub/obj/deeper"} {
		checkNotFound(t, s, key)
		if _, err := s.Get(ctx, key); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", key, err)
		}
		if _, err := s.GetRange(ctx, key, 0, 1); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("GetRange(%q) = %v, want ErrNotFound", key, err)
		}
	}
}

func testInvalidKey(t *testing.T, s storage.Store) {
	ctx := testContext(t)
	bad := []string{"", "/abs", "a/../b", "..", "a\\b", "a//b", "a/", ".hidden", "a/.tmp-1", "a\x00b", "a\nb",
		string(make([]byte, storage.MaxKeyLen+1))}
	for _, key := range bad {
		ops := map[string]error{
			"Put":    s.Put(ctx, key, stream([]byte("x"))),
			"Create": s.Create(ctx, key, stream([]byte("x"))),
			"Delete": s.Delete(ctx, key),
		}
		_, ops["Get"] = s.Get(ctx, key)
		_, ops["GetRange"] = s.GetRange(ctx, key, 0, 1)
		_, ops["Stat"] = s.Stat(ctx, key)
		for op, err := range ops {
			if !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("%s(%q) = %v, want ErrInvalidKey", op, key, err)
			}
		}
	}
	for _, prefix := range []string{"/a", "a//", "../", "a\\", ".x"} {
		var err error
		for _, err = range s.List(ctx, prefix) {
		}
		if !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("List(%q) ended with %v, want ErrInvalidKey", prefix, err)
		}
	}
	if got := keys(t, s, ""); len(got) != 0 {
		t.Errorf("invalid keys left objects: %q", got)
	}
}

// cancelAfter is an endless stream that cancels its context once it has
// produced n bytes, and keeps producing: the store must notice.
type cancelAfter struct {
	n      int
	read   int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.read >= c.n {
		c.cancel()
	}
	for i := range p {
		p[i] = byte(c.read + i)
	}
	c.read += len(p)
	return len(p), nil
}

func testCancelPut(t *testing.T, s storage.Store) {
	for _, n := range []int{1000, 12 * mib} {
		for _, create := range []bool{false, true} {
			key := fmt.Sprintf("cancel/%d-%v", n, create)
			ctx, cancel := context.WithCancel(testContext(t))
			r := &cancelAfter{n: n, cancel: cancel}
			write := s.Put
			if create {
				write = s.Create
			}
			if err := write(ctx, key, r); !errors.Is(err, context.Canceled) {
				t.Errorf("%s: write = %v, want context.Canceled", key, err)
			}
			checkNotFound(t, s, key)
		}
	}
	if got := keys(t, s, ""); len(got) != 0 {
		t.Errorf("cancelled writes left objects: %q", got)
	}
}

func testCancelOverwrite(t *testing.T, s storage.Store) {
	orig := content(8, 3000)
	put(t, s, "wal/keep", orig)
	ctx, cancel := context.WithCancel(testContext(t))
	if err := s.Put(ctx, "wal/keep", &cancelAfter{n: 7 * mib, cancel: cancel}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled overwrite = %v, want context.Canceled", err)
	}
	checkBytes(t, "after cancelled overwrite", get(t, s, "wal/keep"), orig)
}
