package storage

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxKeyLen is S3's limit on an object key in bytes. The store's own prefix
// counts against it, so keys should stay well below it; WAL-G style layouts
// use under 100 bytes.
const MaxKeyLen = 1024

// ValidateKey reports, wrapping ErrInvalidKey, why key cannot name an
// object. A key is a relative '/'-separated path of at most MaxKeyLen bytes
// of valid UTF-8 without control characters whose components are non-empty and do not start with '.'.
//
// The rules are the intersection of what S3 and POSIX filesystems accept
// unambiguously: ".." would escape an fsstore root, a backslash is a
// separator on some S3 gateways over SMB, control characters break S3's XML
// listings and log lines, "a//b" and "a/" have no file
// equivalent, and a leading '.' is kept for the backends' own files
// (fsstore's temporary files, NFS's ".nfsXXXX" silly-renamed files), which
// List therefore never has to tell apart from objects.
func ValidateKey(key string) error {
	if err := validatePath(key); err != nil {
		return fmt.Errorf("key %q: %w", key, err)
	}
	return nil
}

// ValidatePrefix reports whether prefix can start some valid key: "" (all
// keys), a "directory" such as "wal/" or a partial key such as
// "wal/00000001". It wraps ErrInvalidKey.
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	// A prefix is valid exactly when extending it by one ordinary
	// character gives a valid key: "a/" -> "a/x", "a/b" -> "a/bx".
	if err := validatePath(prefix + "x"); err != nil {
		return fmt.Errorf("prefix %q: %w", prefix, err)
	}
	return nil
}

func validatePath(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: %d bytes, more than %d", ErrInvalidKey, len(key), MaxKeyLen)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidKey)
	case strings.HasPrefix(key, "/"):
		return fmt.Errorf("%w: absolute", ErrInvalidKey)
	case strings.ContainsRune(key, '\\'):
		return fmt.Errorf("%w: contains a backslash", ErrInvalidKey)
	case strings.IndexFunc(key, isControl) >= 0:
		return fmt.Errorf("%w: contains a control character", ErrInvalidKey)
	}
	for part := range strings.SplitSeq(key, "/") {
		switch {
		case part == "":
			return fmt.Errorf("%w: empty path component", ErrInvalidKey)
		case part == "..":
			return fmt.Errorf("%w: \"..\" component", ErrInvalidKey)
		case part[0] == '.':
			return fmt.Errorf("%w: component %q starts with '.'", ErrInvalidKey, part)
		}
	}
	return nil
}

// isControl matches ASCII control characters, NUL and newline included.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
