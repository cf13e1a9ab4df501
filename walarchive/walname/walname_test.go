package walname

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenure-pg/tenure/internal/lsn"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name string
		in   string
		size Size
		want File
	}{
		{"first segment", "000000010000000000000001", 0, File{Kind: KindSegment, Segment: Segment{1, 1}}},
		{"log and seg", "000000020000000A000000FE", 0, File{Kind: KindSegment, Segment: Segment{2, 0xA*256 + 0xFE}}},
		{"1 GiB segments", "000000010000000500000003", 1 << 30, File{Kind: KindSegment, Segment: Segment{1, 5*4 + 3}}},
		{"1 MiB segments", "000000010000000100000FFF", 1 << 20, File{Kind: KindSegment, Segment: Segment{1, 4096 + 0xFFF}}},
		{"partial", "000000010000000000000007.partial", 0, File{Kind: KindPartial, Segment: Segment{1, 7}}},
		{"history", "0000000A.history", 0, File{Kind: KindHistory, Segment: Segment{Timeline: 10}}},
		{"backup history", "000000010000000000000002.00000028.backup", 0,
			File{Kind: KindBackupHistory, Segment: Segment{1, 2}, Offset: 0x28}},
		{"max", "FFFFFFFFFFFFFFFF000000FF", 0, File{Kind: KindSegment, Segment: Segment{0xFFFFFFFF, 1<<40 - 1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in, tc.size)
			if tc.want.Kind == 0 {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Parse(%q) = %+v, %v; want ErrInvalid", tc.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tc.in, diff)
			}
			if back := got.Name(tc.size); back != tc.in {
				t.Errorf("Name() = %q, want %q", back, tc.in)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":               "",
		"lower case":          "0000000100000000000000fe",
		"timeline zero":       "000000000000000000000001",
		"history timeline 0":  "00000000.history",
		"short":               "00000001000000000000001",
		"long":                "0000000100000000000000010",
		"seg out of range":    "000000010000000000000100",
		"ready suffix":        "000000010000000000000001.ready",
		"backup offset range": "000000010000000000000001.01000000.backup",
		"backup short offset": "000000010000000000000001.0028.backup",
		"history short":       "0001.history",
		"not hex":             "00000001000000000000000G",
		"signed":              "+0000001000000000000000F",
		"path":                "pg_wal/000000010000000000000001",
		"dot dot":             "..",
	} {
		t.Run(name, func(t *testing.T) {
			if f, err := Parse(in, 0); !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse(%q) = %+v, %v; want ErrInvalid", in, f, err)
			}
		})
	}
}

func TestParseSegmentSizeMatters(t *testing.T) {
	// Seg 0x10 exists with 16 MiB segments but not with 1 GiB ones (4 per log).
	if _, err := ParseSegment("000000010000000000000010", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseSegment("000000010000000000000010", 1<<30); !errors.Is(err, ErrInvalid) {
		t.Errorf("1 GiB: %v, want ErrInvalid", err)
	}
	if _, err := ParseSegment("00000001.history", 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("history as segment: %v, want ErrInvalid", err)
	}
	if _, err := Parse("000000010000000000000001", 3<<20); err == nil || errors.Is(err, ErrInvalid) {
		t.Errorf("3 MiB segment size: %v, want a size error", err)
	}
}

func TestSizeValidate(t *testing.T) {
	for _, tc := range []struct {
		size Size
		ok   bool
	}{{0, true}, {1 << 20, true}, {16 << 20, true}, {1 << 30, true}, {1 << 19, false}, {2 << 30, false}, {3 << 20, false}} {
		if err := tc.size.Validate(); (err == nil) != tc.ok {
			t.Errorf("Size(%d).Validate() = %v, want ok=%v", uint64(tc.size), err, tc.ok)
		}
	}
}

func TestSegmentOfAndNext(t *testing.T) {
	l, _ := lsn.Parse("A/FEFFFFFF")
	s := SegmentOf(3, l, 0)
	if got := s.Name(0); got != "000000030000000A000000FE" {
		t.Errorf("SegmentOf(A/FEFFFFFF) = %s", got)
	}
	if got := s.Next().Name(0); got != "000000030000000A000000FF" {
		t.Errorf("Next = %s", got)
	}
	if got := s.Next().Next().Name(0); got != "000000030000000B00000000" {
		t.Errorf("Next across a log = %s", got)
	}
	if got := s.Next().Start(0).String(); got != "A/FF000000" {
		t.Errorf("Start = %s", got)
	}
}

func TestRange(t *testing.T) {
	names := func(tli uint32, a, b string, size Size) []string {
		start, _ := lsn.Parse(a)
		end, _ := lsn.Parse(b)
		var out []string
		for s := range Range(tli, start, end, size) {
			out = append(out, s.Name(size))
		}
		return out
	}
	cases := []struct {
		name       string
		start, end string
		size       Size
		want       []string
	}{
		{"empty", "0/3000000", "0/3000000", 0, nil},
		{"reversed", "0/4000000", "0/3000000", 0, nil},
		{"one byte", "0/3000000", "0/3000001", 0, []string{"000000010000000000000003"}},
		{"end at boundary excluded", "0/3000028", "0/5000000", 0,
			[]string{"000000010000000000000003", "000000010000000000000004"}},
		{"across log", "0/FF000000", "1/1000001", 0,
			[]string{"0000000100000000000000FF", "000000010000000100000000", "000000010000000100000001"}},
		{"64 MiB segments", "0/0", "0/8000000", 64 << 20,
			[]string{"000000010000000000000000", "000000010000000000000001"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, names(1, tc.start, tc.end, tc.size)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// Stopping early works.
	got := slices.Collect(func(yield func(Segment) bool) {
		for s := range Range(1, 0, 1<<40, 0) {
			if !yield(s) || s.No == 2 {
				return
			}
		}
	})
	if len(got) != 3 {
		t.Errorf("early stop: %d segments", len(got))
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"000000010000000000000001", "0000000A.history", "000000010000000000000007.partial",
		"000000010000000000000002.00000028.backup", "FFFFFFFFFFFFFFFF000000FF", "x", ""} {
		f.Add(s, uint8(24))
	}
	f.Fuzz(func(t *testing.T, name string, sizeLog uint8) {
		size := Size(1) << (20 + sizeLog%11) // 1 MiB .. 1 GiB
		file, err := Parse(name, size)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q, %d): %v does not wrap ErrInvalid", name, size, err)
			}
			return
		}
		if back := file.Name(size); back != name {
			t.Fatalf("Parse(%q, %d) = %+v, which formats as %q", name, size, file, back)
		}
		if file.Kind != KindHistory && SegmentOf(file.Segment.Timeline, file.Segment.Start(size), size) != file.Segment {
			t.Fatalf("%q: SegmentOf(Start) is not the segment", name)
		}
	})
}
