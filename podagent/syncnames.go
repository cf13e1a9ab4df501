package podagent

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/tenure-pg/tenure/podagent/gate"
	"github.com/tenure-pg/tenure/podagent/pgctl"
)

// syncStandbyNames renders synchronous_standby_names: the commit gate
// first when gateName is set (see package gate), then the chosen standbys,
// as FIRST n of n, so every one listed must confirm each commit. "*"
// alone stands for any standby: strict mode without standbys blocks
// commits until one connects.
func syncStandbyNames(gateName string, members []string) string {
	var names []string
	if gateName != "" {
		names = append(names, quoteName(gateName))
	}
	for _, m := range members {
		if m == "*" {
			names = append(names, "*")
			continue
		}
		names = append(names, quoteName(m))
	}
	switch {
	case len(names) == 0:
		return ""
	case gateName == "" && len(members) == 1 && members[0] == "*":
		return "*"
	}
	return fmt.Sprintf("FIRST %d (%s)", len(names), strings.Join(names, ", "))
}

func quoteName(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// parseSyncNames reads back what syncStandbyNames wrote (and plain lists),
// sorted, without the commit gate; "*" stays "*".
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
		if name != "" && name != gate.Name {
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
