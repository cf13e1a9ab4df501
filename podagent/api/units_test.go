package api

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    uint64
		wantErr bool
	}{
		{in: "100", want: 100},
		{in: "0", want: 0},
		{in: " 100 ", want: 100},
		{in: "+100", want: 100},
		{in: "16kB", want: 16 << 10},
		{in: "1MB", want: 1 << 20},
		{in: "10MB", want: 10 << 20},
		{in: "64 MB", want: 64 << 20},
		{in: "1GB", want: 1 << 30},
		{in: "2TB", want: 2 << 40},
		{in: "5B", want: 5},
		{in: "1.5kB", want: 1536},
		{in: ".5MB", want: 512 << 10},
		{in: "2e3", want: 2000},
		{in: "0x400MB", want: 1 << 30},
		{in: "010", want: 8}, // strtol: leading 0 is octal, as Patroni
		{in: "08", want: 8},
		{in: "4097.5", want: 4098},
		{in: "4096.5", want: 4096}, // Python's round: half to even
		{in: "", wantErr: true},
		{in: "abc", wantErr: true},
		{in: "16mb", wantErr: true},
		{in: "16KB", wantErr: true},
		{in: "MB", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "--1", wantErr: true},
		{in: "1e", wantErr: true},
		{in: "0x", wantErr: true},
		{in: "1 2", wantErr: true},
		{in: "99999999999999999999", wantErr: true},
		{in: "9000000TB", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSize(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseSize(%q) = %d, want error", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseSeconds(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "30", want: 30 * time.Second},
		{in: "30s", want: 30 * time.Second},
		{in: "5min", want: 5 * time.Minute},
		{in: "2h", want: 2 * time.Hour},
		{in: "1d", want: 24 * time.Hour},
		{in: "1500ms", want: 2 * time.Second},
		{in: "30m", wantErr: true}, // "m" is not a unit; "min" is
		{in: "soon", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSeconds(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("parseSeconds(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// FuzzParseSize: no panics; plain decimal numbers parse to themselves and
// any number with a unit is that many units.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"100", "16kB", "1.5GB", "0x10", "010", " 7 MB ", "-3", "1e9", ".", "9e99TB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSize(s)
		if err != nil {
			return
		}
		trimmed := strings.TrimSpace(s)
		if n, perr := strconv.ParseUint(trimmed, 10, 63); perr == nil && !strings.HasPrefix(trimmed, "0") && n < 1<<53 {
			if got != n {
				t.Fatalf("ParseSize(%q) = %d, want %d", s, got, n)
			}
		}
		if num, ok := strings.CutSuffix(trimmed, "MB"); ok {
			if n, perr := strconv.ParseUint(strings.TrimSpace(num), 10, 30); perr == nil && !strings.HasPrefix(strings.TrimSpace(num), "0") {
				if got != n<<20 {
					t.Fatalf("ParseSize(%q) = %d, want %d", s, got, n<<20)
				}
			}
		}
	})
}
