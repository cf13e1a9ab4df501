package pgconf

import (
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "''"},
		{"on", "'on'"},
		{"it's", "'it''s'"},
		{`C:\x`, `'C:\\x'`},
		{`\'`, `'\\'''`},
		{"%m [%p] ", "'%m [%p] '"},
	}
	for _, c := range cases {
		if got := Quote(c.in); got != c.want {
			t.Errorf("Quote(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

// TestUnquote pins the reading side to PostgreSQL's rules
// (DeescapeQuotedString in guc-file.l), which the fuzz test relies on.
func TestUnquote(t *testing.T) {
	cases := []struct{ in, want, rest string }{
		{"'a''b' # c", "a'b", " # c"},
		{`'a\nb'`, "a\nb", ""},
		{`'\101\60x'`, "A0x", ""},
		{`'\q\\'`, `q\`, ""},
		{`'\b\f\r\t'`, "\b\f\r\t", ""},
	}
	for _, c := range cases {
		got, rest, ok := unquote(c.in)
		if !ok || got != c.want || rest != c.rest {
			t.Errorf("unquote(%s) = %q, %q, %v; want %q, %q", c.in, got, rest, ok, c.want, c.rest)
		}
	}
	for _, bad := range []string{"", "a", "'open", "'a\nb'"} {
		if _, _, ok := unquote(bad); ok {
			t.Errorf("unquote(%q) ok, want not ok", bad)
		}
	}
}

func TestParseLine(t *testing.T) {
	cases := []struct{ line, name, value string }{
		{"max_connections = 100\t\t# (change requires restart)\n", "max_connections", "100"},
		{"  Port 5432", "port", "5432"},
		{"shared_buffers=128MB", "shared_buffers", "128MB"},
		{"log_line_prefix = '%m [%p] ' # x", "log_line_prefix", "%m [%p] "},
		{"x.y = 'a''b'", "x.y", "a'b"},
	}
	for _, c := range cases {
		name, value, ok := parseLine(c.line)
		if !ok || name != c.name || value != c.value {
			t.Errorf("parseLine(%q) = %q, %q, %v; want %q, %q", c.line, name, value, ok, c.name, c.value)
		}
	}
	for _, skip := range []string{"", "# port = 1", "#listen_addresses = 'localhost'", "   \n", "= 1"} {
		if name, _, ok := parseLine(skip); ok {
			t.Errorf("parseLine(%q) read %q, want nothing", skip, name)
		}
	}
}

// FuzzQuoteRoundTrip: every value Validate accepts reads back unchanged,
// also as a whole rendered line followed by a comment.
func FuzzQuoteRoundTrip(f *testing.F) {
	for _, s := range []string{"", "on", "it's", `\`, `\\'`, `'\101'`, "a#b", "ü\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if !validValue(v) {
			return
		}
		got, rest, ok := unquote(Quote(v))
		if !ok || got != v || rest != "" {
			t.Fatalf("unquote(Quote(%q)) = %q, %q, %v", v, got, rest, ok)
		}
		name, value, ok := parseLine("x = " + Quote(v) + " # comment\n")
		if !ok || name != "x" || value != v {
			t.Fatalf("line for %q reads back as %q=%q (%v)", v, name, value, ok)
		}
		if strings.Count(Quote(v), "\n") != 0 {
			t.Fatal("quoted value spans lines")
		}
	})
}
