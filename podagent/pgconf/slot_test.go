package pgconf

import (
	"strings"
	"testing"
)

func TestSlotName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"db-0", "db_0"},
		{"Prod-DB.1", "prod_db_1"},
		{"already_ok_9", "already_ok_9"},
		{"ünï", "_n_"},
		{"", ""},
		{strings.Repeat("a-", 40), strings.Repeat("a_", 31) + "a"},
	}
	for _, c := range cases {
		got := SlotName(c.in)
		if got != c.want {
			t.Errorf("SlotName(%q) = %q, want %q", c.in, got, c.want)
		}
		if len(got) > 63 {
			t.Errorf("SlotName(%q) is %d bytes", c.in, len(got))
		}
	}
}
