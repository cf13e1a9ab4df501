package lsn

import "testing"

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want LSN
		ok   bool
	}{
		{"0/0", 0, true},
		{"16/B374D848", 0x16B374D848, true},
		{"16/b374d848", 0x16B374D848, true},
		{"FFFFFFFF/FFFFFFFF", ^LSN(0), true},
		{"", 0, false},
		{"16", 0, false},
		{"/1", 0, false},
		{"1/", 0, false},
		{"1/2/3", 0, false},
		{"123456789/0", 0, false},
		{"+1/0", 0, false},
		{"g/0", 0, false},
	}
	for _, tc := range cases {
		got, err := Parse(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Parse(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestStringRoundTrip(t *testing.T) {
	for _, l := range []LSN{0, 1, 0x16B374D848, ^LSN(0)} {
		got, err := Parse(l.String())
		if err != nil || got != l {
			t.Errorf("Parse(%v.String()) = %v, %v", uint64(l), got, err)
		}
	}
}

func TestSub(t *testing.T) {
	if got := LSN(100).Sub(40); got != 60 {
		t.Errorf("100-40 = %d", got)
	}
	if got := LSN(40).Sub(100); got != 0 {
		t.Errorf("40-100 = %d, want 0", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0/0", "16/B374D848", "x", "1/2/3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(l.String())
		if err != nil || again != l {
			t.Fatalf("%q parsed to %v but its String %q does not round-trip", s, uint64(l), l.String())
		}
	})
}
