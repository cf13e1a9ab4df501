package api

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// unit is one unit of a scale: its name and size in the scale's base unit.
type unit struct {
	name string
	size float64
}

// The scales Patroni accepts (its convert_to_base_unit table): names are
// case-sensitive, sizes powers of 1024 as in postgresql.conf, and each unit
// rounds to a whole number of the next smaller one.
var (
	byteUnits = []unit{{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"kB", 1 << 10}, {"B", 1}}
	timeUnits = []unit{{"d", 86400}, {"h", 3600}, {"min", 60}, {"s", 1}, {"ms", 1e-3}, {"us", 1e-6}}
)

// ParseSize reads a byte count as Patroni reads ?lag=: a number (decimal,
// 0x hex or 0-prefixed octal, as C's strtol, or a decimal fraction) and an
// optional unit B, kB, MB, GB or TB, with optional spaces between:
// "1048576", "1024kB", "16MB", "1.5GB". Negative sizes are errors.
func ParseSize(s string) (uint64, error) {
	v, err := parseUnits(s, byteUnits)
	if err != nil {
		return 0, fmt.Errorf("parse size %q: %w", s, err)
	}
	if v < 0 || v >= math.MaxInt64 {
		return 0, fmt.Errorf("parse size %q: out of range", s)
	}
	return uint64(v), nil
}

// parseSeconds reads a duration in Patroni's notation (base unit seconds):
// "30", "30s", "5min", "1500ms" (rounded to whole seconds, as Patroni).
func parseSeconds(s string) (time.Duration, error) {
	v, err := parseUnits(s, timeUnits)
	if err != nil {
		return 0, fmt.Errorf("parse duration %q: %w", s, err)
	}
	if v < 0 || v > float64(math.MaxInt64/int64(time.Second)) {
		return 0, fmt.Errorf("parse duration %q: out of range", s)
	}
	return time.Duration(v) * time.Second, nil
}

// parseUnits returns s in the base unit of scale, rounded to a whole number.
func parseUnits(s string, scale []unit) (float64, error) {
	num, rest, err := leadingNumber(strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return math.RoundToEven(num), nil
	}
	for i, u := range scale {
		if u.name != rest {
			continue
		}
		v := num * u.size
		if i+1 < len(scale) {
			// Round to the next smaller unit first, as Patroni does, so
			// "1.0000001TB" is a whole number of gigabytes.
			next := scale[i+1].size
			v = math.RoundToEven(v/next) * next
		}
		return math.RoundToEven(v), nil
	}
	return 0, fmt.Errorf("unknown unit %q", rest)
}

// leadingNumber splits s into the number it starts with and the rest, the
// way Patroni's strtol/strtod pair does.
func leadingNumber(s string) (float64, string, error) {
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return 0, "", fmt.Errorf("not a number")
	}
	sign := 1.0
	if strings.HasPrefix(s, "-") {
		sign = -1
	}
	base, digits := 10, body
	switch {
	case strings.HasPrefix(body, "0x") || strings.HasPrefix(body, "0X"):
		base, digits = 16, body[2:]
	case strings.HasPrefix(body, "0") && len(body) > 1 && body[1] >= '0' && body[1] <= '7':
		base, digits = 8, body[1:]
	}
	n := 0
	for n < len(digits) && digitValue(digits[n]) < base {
		n++
	}
	rest := digits[n:]
	if base == 10 && rest != "" && (rest[0] == '.' || n > 0 && (rest[0] == 'e' || rest[0] == 'E')) {
		return leadingFloat(body, sign)
	}
	if n == 0 {
		return 0, "", fmt.Errorf("not a number")
	}
	v, err := strconv.ParseUint(digits[:n], base, 63)
	if err != nil {
		return 0, "", fmt.Errorf("out of range")
	}
	return sign * float64(v), rest, nil
}

// leadingFloat reads a decimal fraction with optional exponent from the
// start of s ("1.5", ".5", "2e3").
func leadingFloat(s string, sign float64) (float64, string, error) {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n < len(s) && s[n] == '.' {
		n++
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
	}
	if n < len(s) && (s[n] == 'e' || s[n] == 'E') {
		m := n + 1
		if m < len(s) && (s[m] == '+' || s[m] == '-') {
			m++
		}
		if m < len(s) && s[m] >= '0' && s[m] <= '9' {
			for m < len(s) && s[m] >= '0' && s[m] <= '9' {
				m++
			}
			n = m
		}
	}
	v, err := strconv.ParseFloat(s[:n], 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, "", fmt.Errorf("not a number")
	}
	return sign * v, s[n:], nil
}

func digitValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return 99
}
