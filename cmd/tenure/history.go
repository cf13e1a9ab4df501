package main

import (
	"context"
	"flag"
	"io"
	"strconv"
	"time"

	"github.com/tenure-pg/tenure/internal/lsn"
	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/api"
)

func setupHistory(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
	return setupView(c, fs,
		func(v leaderelect.ClusterView) any { return api.History(v.State.History) },
		func(out io.Writer, v leaderelect.ClusterView) { writeHistory(out, v.State.History) })
}

// writeHistory prints `patronictl history`'s table, the LSN also as
// pg_lsn text.
func writeHistory(out io.Writer, h []leaderelect.HistoryEntry) {
	t := table{
		header: []string{"TL", "LSN", "Reason", "Timestamp", "New Leader"},
		right:  map[int]bool{0: true},
	}
	for _, e := range h {
		ts := ""
		if !e.At.IsZero() {
			ts = e.At.Format(time.RFC3339)
		}
		t.rows = append(t.rows, []string{
			strconv.FormatInt(e.Timeline, 10), lsn.LSN(e.LSN).String(), e.Reason, ts, e.Leader,
		})
	}
	t.write(out)
}
