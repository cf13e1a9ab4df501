package walsvc

import (
	"errors"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		ok     bool
	}{
		{"defaults with a data dir", func(*Config) {}, true},
		{"prefetch off", func(c *Config) { c.Prefetch = 0 }, true},
		{"no data dir", func(c *Config) { c.DataDir = "" }, false},
		{"no concurrency", func(c *Config) { c.Concurrency = 0 }, false},
		{"negative prefetch", func(c *Config) { c.Prefetch = -1 }, false},
		{"segment size not a power of two", func(c *Config) { c.SegmentSize = 3 << 20 }, false},
		{"no timeout", func(c *Config) { c.Timeout = 0 }, false},
		{"no spool idle", func(c *Config) { c.SpoolIdle = 0 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig("/data")
			tc.change(&c)
			err := c.Validate()
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, errConfig)) {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
			if _, nerr := New(c, newFakePusher(false), newFakeFetcher(), nil); (nerr == nil) != tc.ok {
				t.Errorf("New() = %v, want ok=%v", nerr, tc.ok)
			}
		})
	}
}
