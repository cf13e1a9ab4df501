// Package lsn handles PostgreSQL write-ahead log positions: the 64-bit byte
// position that SQL shows as pg_lsn text, "16/B374D848" (high and low 32
// bits in hex).
package lsn

import (
	"fmt"
	"strconv"
	"strings"
)

// LSN is a WAL byte position. Zero means "unknown" (PostgreSQL's
// InvalidXLogRecPtr).
type LSN uint64

// Parse reads pg_lsn text ("16/B374D848"). Each half is 1 to 8 hex digits.
func Parse(s string) (LSN, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok || !validHalf(hi) || !validHalf(lo) {
		return 0, fmt.Errorf("parse lsn %q: want two hex numbers of 1-8 digits joined by '/'", s)
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("parse lsn %q: %w", s, err)
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("parse lsn %q: %w", s, err)
	}
	return LSN(h<<32 | l), nil
}

func validHalf(s string) bool {
	if len(s) == 0 || len(s) > 8 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// String formats l as PostgreSQL does ("16/B374D848").
func (l LSN) String() string {
	return fmt.Sprintf("%X/%X", uint64(l)>>32, uint64(l)&0xFFFFFFFF)
}

// Sub returns l - o in bytes, or 0 when o is ahead of l.
func (l LSN) Sub(o LSN) uint64 {
	if o >= l {
		return 0
	}
	return uint64(l - o)
}
