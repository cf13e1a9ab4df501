package restore

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tenure-pg/tenure/podagent/pgconf"
)

// DefaultRestoreCommand fetches WAL with the agent (see cmd/tenure-agent).
const DefaultRestoreCommand = "tenure-agent wal-fetch %f %p"

// recoverySettings renders the lines appended to postgresql.auto.conf.
// They go there, as pg_basebackup -R writes them, rather than into
// postgresql.conf, which the agent renders and may replace; PostgreSQL
// reads them only while recovery.signal exists.
func recoverySettings(p Plan, restoreCommand string, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n# tenure restore of backup %s at %s to %s\n", p.Backup.ID, now.UTC().Format(time.RFC3339), p.Target)
	set := func(k, v string) { fmt.Fprintf(&b, "%s = %s\n", k, pgconf.Quote(v)) }
	set("restore_command", restoreCommand)
	t := p.Target
	switch t.Kind {
	case Immediate:
		set("recovery_target", "immediate")
	case Time:
		set("recovery_target_time", t.Time.UTC().Format("2006-01-02 15:04:05.999999")+"+00")
	case LSN:
		set("recovery_target_lsn", t.LSN.String())
	case XID:
		set("recovery_target_xid", strconv.FormatUint(t.XID, 10))
	case Name:
		set("recovery_target_name", t.Name)
	}
	if t.Exclusive {
		set("recovery_target_inclusive", "off")
	}
	set("recovery_target_timeline", timelineSetting(t))
	if t.Kind != Latest {
		action := t.Action
		if action == "" {
			action = Promote
		}
		set("recovery_target_action", string(action))
	}
	return b.String()
}

func timelineSetting(t Target) string {
	if n, word, _ := t.timeline(); word == "" {
		return strconv.FormatUint(uint64(n), 10)
	} else {
		return word
	}
}

// writeRecovery appends the settings and creates recovery.signal.
func writeRecovery(dataDir, settings string, owner *Owner) error {
	auto := filepath.Join(dataDir, "postgresql.auto.conf")
	f, err := os.OpenFile(auto, os.O_WRONLY|os.O_APPEND|os.O_CREATE|noFollow, 0o600)
	if err != nil {
		return fmt.Errorf("write recovery settings: %w", err)
	}
	_, err = f.WriteString(settings)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write recovery settings: %w", err)
	}
	signal := filepath.Join(dataDir, "recovery.signal")
	if err := os.WriteFile(signal, nil, 0o600); err != nil {
		return fmt.Errorf("write recovery.signal: %w", err)
	}
	for _, p := range []string{auto, signal} {
		if owner != nil {
			if err := os.Chown(p, owner.UID, owner.GID); err != nil {
				return fmt.Errorf("restore: %w", err)
			}
		}
	}
	return nil
}
