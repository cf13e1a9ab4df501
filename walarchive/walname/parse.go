package walname

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind says which sort of archivable file a name is.
type Kind uint8

// Kinds of files in pg_wal that PostgreSQL archives.
const (
	KindSegment       Kind = iota + 1 // a complete segment
	KindPartial                       // last segment of an old timeline, zero-padded
	KindHistory                       // timeline history
	KindBackupHistory                 // written by pg_backup_stop
)

func (k Kind) String() string {
	switch k {
	case KindSegment:
		return "segment"
	case KindPartial:
		return "partial"
	case KindHistory:
		return "history"
	case KindBackupHistory:
		return "backup-history"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// File is a parsed archivable file name.
type File struct {
	Kind Kind
	// Segment: for KindHistory only Timeline is set.
	Segment Segment
	// Offset is, for KindBackupHistory, the backup's start LSN within the
	// segment.
	Offset uint32
}

// Name formats f as PostgreSQL names it.
func (f File) Name(size Size) string {
	switch f.Kind {
	case KindHistory:
		return HistoryName(f.Segment.Timeline)
	case KindPartial:
		return f.Segment.Name(size) + ".partial"
	case KindBackupHistory:
		return fmt.Sprintf("%s.%08X.backup", f.Segment.Name(size), f.Offset)
	}
	return f.Segment.Name(size)
}

// Lengths of the name parts.
const (
	hexLen     = 8
	segNameLen = 3 * hexLen
)

// Parse reads an archivable file name (a base name, no directory) for
// segments of the given size. Errors wrap ErrInvalid.
func Parse(name string, size Size) (File, error) {
	if err := size.Validate(); err != nil {
		return File{}, fmt.Errorf("parse %q: %w", name, err)
	}
	f, err := parse(name, size)
	if err != nil {
		return File{}, fmt.Errorf("parse %q: %w: %s", name, ErrInvalid, err)
	}
	return f, nil
}

func parse(name string, size Size) (File, error) {
	if tli, ok := strings.CutSuffix(name, ".history"); ok {
		t, err := parseTimeline(tli)
		return File{Kind: KindHistory, Segment: Segment{Timeline: t}}, err
	}
	if len(name) < segNameLen {
		return File{}, fmt.Errorf("want %d hex digits, then nothing, .partial, .OFFSET.backup or .history", segNameLen)
	}
	seg, err := parseSegment(name[:segNameLen], size)
	if err != nil {
		return File{}, err
	}
	f := File{Kind: KindSegment, Segment: seg}
	switch rest := name[segNameLen:]; {
	case rest == "":
	case rest == ".partial":
		f.Kind = KindPartial
	case len(rest) == 1+hexLen+len(".backup") && rest[0] == '.' && strings.HasSuffix(rest, ".backup"):
		off, err := parseHex(rest[1 : 1+hexLen])
		if err != nil {
			return File{}, fmt.Errorf("backup offset: %w", err)
		}
		if uint64(off) >= uint64(size.orDefault()) {
			return File{}, fmt.Errorf("backup offset %08X is not inside a %d-byte segment", off, uint64(size.orDefault()))
		}
		f.Kind, f.Offset = KindBackupHistory, off
	default:
		return File{}, fmt.Errorf("unknown suffix %q", rest)
	}
	return f, nil
}

// ParseSegment reads a complete segment's name only.
func ParseSegment(name string, size Size) (Segment, error) {
	f, err := Parse(name, size)
	if err != nil {
		return Segment{}, err
	}
	if f.Kind != KindSegment {
		return Segment{}, fmt.Errorf("parse %q: %w: a %s file, not a segment", name, ErrInvalid, f.Kind)
	}
	return f.Segment, nil
}

func parseSegment(s string, size Size) (Segment, error) {
	tli, err := parseTimeline(s[:hexLen])
	if err != nil {
		return Segment{}, err
	}
	log, err := parseHex(s[hexLen : 2*hexLen])
	if err != nil {
		return Segment{}, fmt.Errorf("log: %w", err)
	}
	seg, err := parseHex(s[2*hexLen:])
	if err != nil {
		return Segment{}, fmt.Errorf("seg: %w", err)
	}
	per := size.segsPerLog()
	if uint64(seg) >= per {
		return Segment{}, fmt.Errorf("seg %08X: a log holds only %d segments of %d bytes", seg, per, uint64(size.orDefault()))
	}
	return Segment{Timeline: tli, No: uint64(log)*per + uint64(seg)}, nil
}

func parseTimeline(s string) (uint32, error) {
	t, err := parseHex(s)
	if err != nil {
		return 0, fmt.Errorf("timeline: %w", err)
	}
	if t == 0 {
		return 0, fmt.Errorf("timeline 0 does not exist")
	}
	return t, nil
}

// parseHex reads exactly 8 upper-case hex digits, as PostgreSQL writes them.
func parseHex(s string) (uint32, error) {
	if len(s) != hexLen {
		return 0, fmt.Errorf("%q: want %d hex digits", s, hexLen)
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'A' || c > 'F') {
			return 0, fmt.Errorf("%q: want upper-case hex digits", s)
		}
	}
	v, err := strconv.ParseUint(s, 16, 32)
	return uint32(v), err
}
