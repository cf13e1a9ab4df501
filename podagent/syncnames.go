package podagent

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/tenure-pg/tenure/podagent/pgctl"
)

// syncStandbyNames renders the chosen standbys as FIRST n of n, so every
// one of them must confirm each commit; "*" alone blocks commits until any
// standby connects (strict mode without standbys).
func syncStandbyNames(members []string) string {
	if len(members) == 0 {
		return ""
	}
	if len(members) == 1 && members[0] == "*" {
		return "*"
	}
	quoted := make([]string, len(members))
	for i, m := range members {
		quoted[i] = `"` + strings.ReplaceAll(m, `"`, `""`) + `"`
	}
	return fmt.Sprintf("FIRST %d (%s)", len(members), strings.Join(quoted, ", "))
}

// parseSyncNames reads back what syncStandbyNames wrote (and plain lists),
// sorted; "*" stays "*".
func parseSyncNames(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if i := strings.Index(s, "("); i >= 0 && strings.HasSuffix(s, ")") {
		s = s[i+1 : len(s)-1]
	}
	var out []string
	for _, part := range strings.Split(s, ",") {
		name := strings.TrimSpace(part)
		if len(name) >= 2 && name[0] == '"' && name[len(name)-1] == '"' {
			name = strings.ReplaceAll(name[1:len(name)-1], `""`, `"`)
		}
		if name != "" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// sortedReplicas orders pg_stat_replication most caught-up first, then by
// name, so the choice of synchronous standbys is stable.
func sortedReplicas(rs []pgctl.Replica) []pgctl.Replica {
	out := slices.Clone(rs)
	slices.SortFunc(out, func(a, b pgctl.Replica) int {
		return cmp.Or(-cmp.Compare(a.FlushLSN, b.FlushLSN), cmp.Compare(a.ApplicationName, b.ApplicationName))
	})
	return out
}
