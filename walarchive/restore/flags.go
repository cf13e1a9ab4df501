package restore

import (
	"flag"
	"fmt"
	"time"

	"github.com/tenure-pg/tenure/internal/lsn"
)

// TargetFlags are the command-line flags naming a recovery target, shared
// by `tenure restore`, `tenure backup verify` and the agent's clone
// bootstrap. Prefix names them ("target-" for the CLI).
type TargetFlags struct {
	time, lsn, name, timeline, action string
	xid                               uint64
	immediate, exclusive              bool
	prefix                            string
}

// Register adds the flags to fs, each name starting with prefix.
func (t *TargetFlags) Register(fs *flag.FlagSet, prefix string) {
	t.prefix = prefix
	fs.StringVar(&t.time, prefix+"time", "", "recover to this time (RFC 3339, e.g. 2026-11-23T10:15:00Z)")
	fs.StringVar(&t.lsn, prefix+"lsn", "", "recover to this WAL position (e.g. 0/3000060)")
	fs.Uint64Var(&t.xid, prefix+"xid", 0, "recover to this transaction ID")
	fs.StringVar(&t.name, prefix+"name", "", "recover to this restore point (pg_create_restore_point)")
	fs.BoolVar(&t.immediate, prefix+"immediate", false, "stop as soon as the backup is consistent")
	fs.BoolVar(&t.exclusive, prefix+"exclusive", false, "stop just before the target instead of just after it")
	fs.StringVar(&t.timeline, prefix+"timeline", "latest", "latest, current or a timeline number")
	fs.StringVar(&t.action, prefix+"action", "promote", "at the target: promote or pause")
}

// Target builds the Target the flags name; none of them means def.
func (t *TargetFlags) Target(def Kind) (Target, error) {
	p := "--" + t.prefix
	tg := Target{Kind: def, Exclusive: t.exclusive, Timeline: t.timeline, Action: Action(t.action)}
	set := 0
	if t.time != "" {
		ts, err := time.Parse(time.RFC3339Nano, t.time)
		if err != nil {
			return tg, fmt.Errorf("%stime %q: want RFC 3339 (2026-11-23T10:15:00Z)", p, t.time)
		}
		tg.Kind, tg.Time = Time, ts
		set++
	}
	if t.lsn != "" {
		l, err := lsn.Parse(t.lsn)
		if err != nil {
			return tg, fmt.Errorf("%slsn: %w", p, err)
		}
		tg.Kind, tg.LSN = LSN, l
		set++
	}
	if t.xid != 0 {
		tg.Kind, tg.XID = XID, t.xid
		set++
	}
	if t.name != "" {
		tg.Kind, tg.Name = Name, t.name
		set++
	}
	if t.immediate {
		tg.Kind = Immediate
		set++
	}
	if set > 1 {
		return tg, fmt.Errorf("give at most one of %[1]stime, %[1]slsn, %[1]sxid, %[1]sname, %[1]simmediate", p)
	}
	if err := tg.Validate(); err != nil {
		return tg, err
	}
	return tg, nil
}
