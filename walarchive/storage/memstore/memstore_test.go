package memstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/walarchive/storage"
	"github.com/tenure-pg/tenure/walarchive/storage/memstore"
	"github.com/tenure-pg/tenure/walarchive/storage/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) storage.Store { return memstore.New() })
}

// TestTreeConflict: a key cannot also be another key's directory, because
// fsstore cannot store that either.
func TestTreeConflict(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	if err := s.Put(ctx, "a/b", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"a/b/c", "a"} {
		if err := s.Put(ctx, key, strings.NewReader("y")); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Put(%q) beside a/b = %v, want ErrInvalidKey", key, err)
		}
	}
	if err := s.Put(ctx, "a/bc", strings.NewReader("y")); err != nil {
		t.Errorf("Put(a/bc) beside a/b: %v", err)
	}
}

func TestClock(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := memstore.New(memstore.WithClock(func() time.Time { return at }))
	if err := s.Put(context.Background(), "k", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	info, err := s.Stat(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	if !info.ModTime.Equal(at) {
		t.Errorf("ModTime = %v, want %v", info.ModTime, at)
	}
}
