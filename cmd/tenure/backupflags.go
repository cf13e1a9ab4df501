package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tenure-pg/tenure/walarchive/codec"
	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/restore"
	"github.com/tenure-pg/tenure/walarchive/storage"
	"github.com/tenure-pg/tenure/walarchive/wal"
)

// archiveFlags locate the archive: the same tenure-archive.json that
// wal-push and wal-fetch read (S3 keys from the environment).
type archiveFlags struct{ path string }

func (a *archiveFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.path, "archive-config", "", "the archive's tenure-archive.json (default $TENURE_ARCHIVE_CONFIG)")
}

// archive is an opened archive.
type archive struct {
	cfgPath string
	cfg     wal.Config
	store   storage.Store
	layout  layout.Archive
	codec   codec.Options // with the key, if any
}

func (c *cli) openArchive(ctx context.Context, a archiveFlags) (*archive, error) {
	path := a.path
	if path == "" {
		path = c.getenv("TENURE_ARCHIVE_CONFIG")
	}
	if path == "" {
		return nil, usagef("no archive: pass --archive-config FILE (the tenure-archive.json wal-push uses)")
	}
	cfg, err := wal.LoadConfig(path)
	if err != nil {
		return nil, usagef("%v", err)
	}
	opts, err := cfg.CodecOptions()
	if err != nil {
		return nil, err
	}
	st, err := wal.OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &archive{cfgPath: path, cfg: cfg, store: st, layout: cfg.Archive, codec: opts}, nil
}

// targetFlags are the recovery target of restore and verify.
type targetFlags struct{ restore.TargetFlags }

func (t *targetFlags) register(fs *flag.FlagSet) { t.Register(fs, "target-") }

// target builds the Target; no target flag means def.
func (t *targetFlags) target(def restore.Kind) (restore.Target, error) {
	tg, err := t.Target(def)
	if err != nil {
		return tg, usagef("%v", err)
	}
	return tg, nil
}

// progress prints "<verb> 1.2 GiB  340 MiB/s" on one rewritten line,
// only when w is a terminal, at most twice a second.
type progress struct {
	w       io.Writer
	verb    string
	start   time.Time
	last    time.Time
	printed bool
}

func (c *cli) newProgress(verb string) *progress {
	f, ok := c.errOut.(*os.File)
	if !ok {
		return nil
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	now := time.Now()
	return &progress{w: f, verb: verb, start: now, last: now}
}

func (p *progress) update(done int64) {
	if p == nil {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 500*time.Millisecond {
		return
	}
	p.last, p.printed = now, true
	rate := float64(done) / now.Sub(p.start).Seconds()
	fmt.Fprintf(p.w, "\r%s %s  %s/s   ", p.verb, humanBytes(done), humanBytes(int64(rate)))
}

func (p *progress) end() {
	if p != nil && p.printed {
		fmt.Fprintln(p.w)
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
