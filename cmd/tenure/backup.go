package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/tenure-pg/tenure/walarchive/basebackup"
	"github.com/tenure-pg/tenure/walarchive/catalog"
	"github.com/tenure-pg/tenure/walarchive/retention"
)

// backupFlags are the flags of every `tenure backup` subcommand (one flag
// set, because flags may come before or after the subcommand).
type backupFlags struct {
	archive archiveFlags
	target  targetFlags
	output  string
	// create
	dsn       string
	fast      bool
	label     string
	maxRateKB int
	// delete, prune
	force  bool
	dryRun bool
	// prune
	keepLast   int
	keepWithin time.Duration
	// verify
	verify verifyFlags
}

const backupSynopsis = "list|create|delete|verify|prune --archive-config FILE [flags]"

func setupBackup(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
	var f backupFlags
	f.archive.register(fs)
	f.target.register(fs)
	f.verify.register(fs)
	fs.StringVar(&f.output, "o", "table", "list output: table or json")
	fs.StringVar(&f.dsn, "dsn", "", "create: connection string of the member to back up (primary or replica)")
	fs.BoolVar(&f.fast, "fast", true, "create: immediate checkpoint instead of a spread one")
	fs.StringVar(&f.label, "label", "", "create: backup label")
	fs.IntVar(&f.maxRateKB, "max-rate", 0, "create: throttle the server's sending to this many kB/s (32-1048576)")
	fs.BoolVar(&f.force, "force", false, "delete, prune: do not ask for confirmation")
	fs.BoolVar(&f.dryRun, "dry-run", false, "prune: print the plan and delete nothing")
	fs.IntVar(&f.keepLast, "keep-last", 0, "prune: keep the newest N backups")
	fs.DurationVar(&f.keepWithin, "keep-within", 0, "prune: keep backups that ended within this long (e.g. 168h)")
	return func(ctx context.Context, args []string) error {
		if len(args) == 0 {
			return usagef("backup: want a subcommand: %s", backupSynopsis)
		}
		sub, rest := args[0], args[1:]
		run, ok := map[string]func(context.Context, *backupFlags, []string) error{
			"list": c.backupList, "create": c.backupCreate, "delete": c.backupDelete,
			"verify": c.backupVerify, "prune": c.backupPrune,
		}[sub]
		if !ok {
			return usagef("backup: unknown subcommand %q: want %s", sub, backupSynopsis)
		}
		return run(ctx, &f, rest)
	}
}

func (c *cli) backupList(ctx context.Context, f *backupFlags, args []string) error {
	if err := noMoreArgs(args); err != nil {
		return err
	}
	if f.output != "table" && f.output != "json" {
		return usagef("-o %q: want table or json", f.output)
	}
	a, err := c.openArchive(ctx, f.archive)
	if err != nil {
		return err
	}
	l, err := catalog.List(ctx, a.store, a.layout)
	if err != nil {
		return err
	}
	if f.output == "json" {
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Complete   []catalog.Meta       `json:"complete"`
			Incomplete []catalog.Incomplete `json:"incomplete"`
		}{nonNil(l.Complete), nonNil(l.Incomplete)})
	}
	t := table{title: "Backups of " + a.layout.Root(),
		header: []string{"ID", "Status", "TL", "Start LSN", "Stop LSN", "Ended", "Took", "Size", "Stored"},
		right:  map[int]bool{2: true, 6: true, 7: true, 8: true}}
	for _, m := range l.Complete {
		t.rows = append(t.rows, []string{m.ID, "complete", fmt.Sprint(m.StopTimeline), m.StartLSN.String(), m.StopLSN.String(),
			m.StopTime.UTC().Format(time.RFC3339), m.StopTime.Sub(m.StartTime).Round(time.Second).String(),
			humanBytes(m.RawSize), humanBytes(m.StoredSize)})
	}
	for _, inc := range l.Incomplete {
		t.rows = append(t.rows, []string{inc.ID, "incomplete", "", "", "", inc.ModTime.UTC().Format(time.RFC3339), "", "", humanBytes(inc.Size)})
	}
	t.write(c.out)
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (c *cli) backupCreate(ctx context.Context, f *backupFlags, args []string) error {
	if err := noMoreArgs(args); err != nil {
		return err
	}
	if f.dsn == "" {
		return usagef("backup create: --dsn is required (the member to back up)")
	}
	a, err := c.openArchive(ctx, f.archive)
	if err != nil {
		return err
	}
	p := c.newProgress("backup")
	cfg := basebackup.Config{Store: a.store, Archive: a.layout, Codec: a.codec, Label: f.label, Fast: f.fast,
		MaxRateKB: f.maxRateKB, Now: c.now, Log: c.logger()}
	if p != nil {
		cfg.Progress = func(done, _ int64) { p.update(done) }
	}
	if err := cfg.Validate(); err != nil {
		return usagef("%v", err)
	}
	m, err := basebackup.Take(ctx, f.dsn, cfg)
	p.end()
	if err != nil {
		return err
	}
	took := m.StopTime.Sub(m.StartTime)
	fmt.Fprintf(c.out, "Backup %s complete: %s (stored %s) in %s, %.0f MiB/s, LSN %s..%s timeline %d\n",
		m.ID, humanBytes(m.RawSize), humanBytes(m.StoredSize), took.Round(time.Millisecond),
		mibPerSec(m.RawSize, took), m.StartLSN, m.StopLSN, m.StopTimeline)
	return nil
}

func (c *cli) logger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "tenure", Output: c.errOut, Level: hclog.Warn})
}

func (c *cli) backupDelete(ctx context.Context, f *backupFlags, args []string) error {
	if len(args) != 1 {
		return usagef("backup delete: want exactly one backup ID")
	}
	id := args[0]
	if !catalog.ValidID(id) {
		return usagef("backup delete: %q is not a backup ID (like 20261123T101500Z)", id)
	}
	a, err := c.openArchive(ctx, f.archive)
	if err != nil {
		return err
	}
	l, err := catalog.List(ctx, a.store, a.layout)
	if err != nil {
		return err
	}
	what := "incomplete backup"
	if _, err := l.Find(id); err == nil {
		what = "backup"
		if newest, _ := l.Newest(); newest.ID == id {
			what = "NEWEST backup"
		}
	}
	if err := c.confirm(f.force, fmt.Sprintf("Delete %s %s from %s?", what, id, a.layout.Root())); err != nil {
		return err
	}
	if err := catalog.Delete(ctx, a.store, a.layout, id); err != nil {
		if errors.Is(err, catalog.ErrNoBackup) {
			return fmt.Errorf("no backup %s in %s", id, a.layout.Root())
		}
		return err
	}
	fmt.Fprintf(c.out, "Deleted %s %s\n", what, id)
	return nil
}

func (c *cli) backupPrune(ctx context.Context, f *backupFlags, args []string) error {
	if err := noMoreArgs(args); err != nil {
		return err
	}
	policy := retention.Policy{KeepLast: f.keepLast, KeepWithin: f.keepWithin}
	if err := policy.Validate(); err != nil {
		return usagef("backup prune: %v (--keep-last N and/or --keep-within DURATION)", err)
	}
	a, err := c.openArchive(ctx, f.archive)
	if err != nil {
		return err
	}
	o, err := retention.Observe(ctx, a.store, a.layout)
	if err != nil {
		return err
	}
	o.Now, o.Policy = c.now(), policy
	plan, err := retention.Decide(o)
	if err != nil {
		return err
	}
	for _, d := range plan.Keep {
		fmt.Fprintf(c.out, "keep    %s  %s\n", d.ID, d.Reason)
	}
	for _, d := range plan.DeleteBackups {
		fmt.Fprintf(c.out, "delete  %s  %s\n", d.ID, d.Reason)
	}
	if n := len(plan.DeleteWAL); n > 0 {
		fmt.Fprintf(c.out, "delete  %d WAL files %s..%s (WAL from %s is kept)\n", n, plan.DeleteWAL[0], plan.DeleteWAL[n-1], plan.WALFrom)
	}
	if f.dryRun || len(plan.DeleteBackups)+len(plan.DeleteWAL) == 0 {
		return nil
	}
	if err := c.confirm(f.force, "Delete the above?"); err != nil {
		return err
	}
	return retention.Execute(ctx, a.store, a.layout, plan, c.logger())
}
