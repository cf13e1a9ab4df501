package pgconf

import (
	"strings"
)

// Quote returns v as a postgresql.conf string literal. PostgreSQL's
// configuration lexer ends a literal at an undoubled single quote and
// reads a backslash as an escape (\n, \t, octal \123, otherwise the next
// character itself), so both are doubled: "it's C:\x" becomes
// 'it”s C:\\x'. v must not hold a line break or NUL (see Member.Validate).
func Quote(v string) string {
	var b strings.Builder
	b.Grow(len(v) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\'':
			b.WriteString("''")
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteByte(v[i])
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// unquote reads a quoted literal at the start of s the way PostgreSQL's
// DeescapeQuotedString does and returns its value and the rest of s. ok is
// false when s does not start with a complete literal.
func unquote(s string) (value, rest string, ok bool) {
	if s == "" || s[0] != '\'' {
		return "", s, false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case c == '\'':
			return b.String(), s[i+1:], true
		case c == '\\' && i+1 < len(s):
			i += unescape(&b, s[i+1:])
		case c == '\n':
			return "", s, false
		default:
			b.WriteByte(c)
		}
	}
	return "", s, false
}

// unescape writes the character a backslash escape at the start of s
// stands for and returns how many bytes of s it used.
func unescape(b *strings.Builder, s string) int {
	switch s[0] {
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case '0', '1', '2', '3', '4', '5', '6', '7':
		n, v := 0, 0
		for n < 3 && n < len(s) && s[n] >= '0' && s[n] <= '7' {
			v = v*8 + int(s[n]-'0')
			n++
		}
		b.WriteByte(byte(v))
		return n
	default:
		b.WriteByte(s[0])
	}
	return 1
}

// parseSettings reads the "name = value" lines of a postgresql.conf-style
// file into a map of lower-case names (later lines win, as in PostgreSQL).
// Directives (include, include_if_exists, include_dir) and lines it cannot
// read are skipped: the result feeds a restart hint, not the server.
func parseSettings(text string) map[string]string {
	out := make(map[string]string)
	for line := range strings.Lines(text) {
		name, value, ok := parseLine(line)
		if ok && !strings.HasPrefix(name, "include") {
			out[name] = value
		}
	}
	return out
}

// parseLine reads one "name [=] value [# comment]" line.
func parseLine(line string) (name, value string, ok bool) {
	line = strings.TrimLeft(line, " \t")
	end := strings.IndexFunc(line, func(r rune) bool {
		return !(r == '_' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
	if end <= 0 {
		return "", "", false
	}
	name, line = strings.ToLower(line[:end]), strings.TrimLeft(line[end:], " \t")
	line = strings.TrimLeft(strings.TrimPrefix(line, "="), " \t")
	if strings.HasPrefix(line, "'") {
		value, _, ok = unquote(line)
		return name, value, ok
	}
	if i := strings.IndexAny(line, " \t\r\n#"); i >= 0 {
		line = line[:i]
	}
	return name, line, line != ""
}
