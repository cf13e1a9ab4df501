package restore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
	fmt.Fprintf(&b, "\n%s%s at %s to %s\n", settingsMark, p.Backup.ID, now.UTC().Format(time.RFC3339), p.Target)
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
	if owner != nil {
		if err := os.Chown(auto, owner.UID, owner.GID); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	return writeSignal(dataDir, recoverySignal, owner)
}

// Signal files.
const (
	recoverySignal = "recovery.signal"
	standbySignal  = "standby.signal"
)

func writeSignal(dataDir, name string, owner *Owner) error {
	path := filepath.Join(dataDir, name)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if owner != nil {
		if err := os.Chown(path, owner.UID, owner.GID); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	return nil
}

// settingsMark opens the block of recovery settings a restore appends to
// postgresql.auto.conf.
const settingsMark = "# tenure restore of backup "

// recoveryKeys are the settings a restore writes.
var recoveryKeys = []string{"restore_command", "recovery_target", "recovery_target_time", "recovery_target_lsn",
	"recovery_target_xid", "recovery_target_name", "recovery_target_inclusive", "recovery_target_timeline",
	"recovery_target_action"}

// HasRecoverySettings reports whether dataDir's postgresql.auto.conf
// still holds settings a restore wrote: the restore's recovery has not
// been finished off with ClearRecoverySettings.
func HasRecoverySettings(dataDir string) (bool, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postgresql.auto.conf"))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read recovery settings: %w", err)
	}
	return strings.Contains(string(b), settingsMark), nil
}

// ClearRecoverySettings removes the blocks a restore appended to
// postgresql.auto.conf, once recovery is over: left in place, the
// restore's target and restore_command (which may name another cluster's
// archive) would outlive it, and be copied to every replica cloned from
// this one. Other lines are kept as they are. Missing blocks are no error.
// The recorded End (EndFile) and abort note (AbortFile) go too.
func ClearRecoverySettings(dataDir string) error {
	for _, name := range []string{EndFile, AbortFile} {
		if err := os.Remove(filepath.Join(dataDir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("clear recovery settings: %w", err)
		}
	}
	path := filepath.Join(dataDir, "postgresql.auto.conf")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("clear recovery settings: %w", err)
	}
	var kept []string
	inBlock := false
	for _, line := range strings.SplitAfter(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, settingsMark):
			if n := len(kept); n > 0 && strings.TrimSpace(kept[n-1]) == "" {
				kept = kept[:n-1] // the blank line the restore wrote before its block
			}
			inBlock = true
			continue
		case inBlock && isRecoveryLine(trimmed):
			continue
		case inBlock && trimmed == "":
			continue
		}
		inBlock = false
		kept = append(kept, line)
	}
	out := strings.TrimRight(strings.Join(kept, ""), "\n") + "\n"
	if out == string(b) {
		return nil
	}
	if err := pgconf.ReplaceFile(dataDir, "postgresql.auto.conf", []byte(out)); err != nil {
		return fmt.Errorf("clear recovery settings: %w", err)
	}
	return nil
}

func isRecoveryLine(line string) bool {
	key, _, ok := strings.Cut(line, "=")
	return ok && slices.Contains(recoveryKeys, strings.TrimSpace(key))
}
