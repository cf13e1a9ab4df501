package podagent

import "testing"

func TestConninfo(t *testing.T) {
	cases := []struct{ url, want string }{
		{"postgres://10.0.0.5:5432/postgres", "host=10.0.0.5 port=5432 user=u application_name=m connect_timeout=3 dbname=postgres"},
		{"postgres://[fd00::5]:5433/postgres", "host=fd00::5 port=5433 user=u application_name=m connect_timeout=3 dbname=postgres"},
	}
	for _, tc := range cases {
		if got := conninfo(tc.url, "u", "m", "postgres"); got != tc.want {
			t.Errorf("conninfo(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
	c := Default("pg", "pg-0")
	c.ConnectHost, c.Port = "127.0.0.2", 5432
	if got := c.ConnURL(); got != "postgres://127.0.0.2:5432/postgres" {
		t.Errorf("ConnURL = %q", got)
	}
}
