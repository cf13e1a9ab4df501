package pgconf

import "strings"

// maxSlotName is PostgreSQL's NAMEDATALEN-1.
const maxSlotName = 63

// SlotName returns the physical replication slot name for member:
// PostgreSQL allows only [a-z0-9_] and 63 bytes, so it lower-cases the
// name, replaces every other character ('-' and '.' in pod names) with
// '_' and truncates. Distinct members can map to one slot name
// ("db-0" and "db.0"); Kubernetes pod names of one StatefulSet never do.
func SlotName(member string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(member) {
		if b.Len() == maxSlotName {
			break
		}
		if r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
