package ha

import "testing"

func TestParseSyncMode(t *testing.T) {
	for in, want := range map[string]SyncMode{
		"": SyncOff, "off": SyncOff, "false": SyncOff, "OFF": SyncOff,
		"on": SyncOn, "true": SyncOn, " True ": SyncOn, "strict": SyncStrict,
	} {
		got, err := ParseSyncMode(in)
		if err != nil || got != want {
			t.Errorf("ParseSyncMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"garbage", "quorum", "1", "yes"} {
		if _, err := ParseSyncMode(in); err == nil {
			t.Errorf("ParseSyncMode(%q): no error", in)
		}
	}
}
