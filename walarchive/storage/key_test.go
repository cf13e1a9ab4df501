package storage_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tenure-pg/tenure/walarchive/storage"
)

func TestValidateKey(t *testing.T) {
	valid := []string{"a", "a/b", "wal/000000010000000000000001", "basebackups/base_0001/tar_0.tar.lz4",
		"00000002.history", "a-b_c.d", "ü/ß", strings.Repeat("k", storage.MaxKeyLen)}
	for _, key := range valid {
		if err := storage.ValidateKey(key); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", key, err)
		}
	}
	invalid := []string{"", "/a", "a/", "a//b", "..", "a/../b", "./a", "a/.", ".a", "a/.nfs0001", "a\\b",
		"a\x00", "a\tb", "a\x7f", "\xff", strings.Repeat("k", storage.MaxKeyLen+1)}
	for _, key := range invalid {
		if err := storage.ValidateKey(key); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
}

func TestValidatePrefix(t *testing.T) {
	for _, p := range []string{"", "a", "a/", "a/b", "wal/0000000100"} {
		if err := storage.ValidatePrefix(p); err != nil {
			t.Errorf("ValidatePrefix(%q) = %v, want nil", p, err)
		}
	}
	for _, p := range []string{"/", "/a", "a//", "../", "a/..", ".", "a/.", "a\\"} {
		if err := storage.ValidatePrefix(p); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("ValidatePrefix(%q) = %v, want ErrInvalidKey", p, err)
		}
	}
}
