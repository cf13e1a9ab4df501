package ha

import (
	"fmt"
	"strings"
)

// ParseSyncMode reads the synchronous_mode of the dynamic configuration
// into the typed value, the one reading the agent, the REST API and the
// CLI share. Patroni's booleans are accepted and mapped explicitly
// ("true" is on, "false" off); an empty string is off. Patroni's "quorum"
// is refused: the agent does not implement it, and reading it as "on" or
// "off" silently would make the API and the agent disagree.
func ParseSyncMode(s string) (SyncMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "off", "false":
		return SyncOff, nil
	case "on", "true":
		return SyncOn, nil
	case "strict":
		return SyncStrict, nil
	}
	return SyncOff, fmt.Errorf("synchronous_mode %q: want off, on or strict (or Patroni's false/true)", s)
}
