package pgctl_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tenure-pg/tenure/internal/lsn"
	"github.com/tenure-pg/tenure/podagent/pgconf"
	"github.com/tenure-pg/tenure/podagent/pgctl"
)

var update = flag.Bool("update", false, "rewrite testdata/controldata/*.txt from the real pg_controldata")

// TestFailoverAndRejoin walks two members through a cluster's life: clone,
// streaming, a clean switchover with rejoin by pg_rewind, then a crash of
// the primary, promotion of the standby and a real rewind of the crashed,
// diverged old primary.
func TestFailoverAndRejoin(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a, b := newNode(t, "a"), newNode(t, "b")

	timed(t, "initdb", func() error { return a.InitDB(ctx, pgctl.InitOptions{NoSync: true}) })
	captureControldata(t, a, "initdb", pgctl.StateShutDown)
	a.apply(t, nil)
	timed(t, "start primary", func() error { return a.Start(ctx) })
	st := a.status(t)
	if st.InRecovery || st.Timeline != 1 || st.WriteLSN == 0 || st.FlushLSN == 0 || st.ServerVersionNum/10000 != 15 {
		t.Fatalf("primary status %+v: want not in recovery, timeline 1, a WAL position, version 15", st)
	}
	must(t, a.EnsureRole(ctx, "replicator", "s3cret", true))
	must(t, a.EnsureSlot(ctx, pgconf.SlotName(b.name)))
	must(t, a.EnsureSlot(ctx, pgconf.SlotName(b.name))) // idempotent

	timed(t, "basebackup", func() error {
		return b.Basebackup(ctx, pgctl.BasebackupOptions{ConnString: a.connInfo("replicator"), Slot: "b", CheckpointFast: true})
	})
	b.apply(t, a)
	timed(t, "start standby", func() error { return b.Start(ctx) })
	write(t, a, "CREATE TABLE t (x int, tl int)", "INSERT INTO t SELECT g, 1 FROM generate_series(1, 1000) g")
	waitStreaming(t, a, b, 1)

	// Switchover: stop the primary cleanly, promote the standby.
	timed(t, "stop primary (fast)", func() error { return a.Stop(ctx, pgctl.Fast) })
	captureControldata(t, a, "shutdown", pgctl.StateShutDown)
	timed(t, "promote", func() error { return b.Promote(ctx) })
	if st := b.status(t); st.InRecovery || st.Timeline != 2 {
		t.Fatalf("after promote: %+v, want primary on timeline 2", st)
	}
	must(t, b.EnsureSlot(ctx, pgconf.SlotName(a.name)))
	write(t, b, "INSERT INTO t SELECT g, 2 FROM generate_series(1, 100) g")
	timed(t, "rewind (clean)", func() error { return a.Rewind(ctx, b.connInfo("postgres")) })
	a.apply(t, b)
	timed(t, "start rejoined standby", func() error { return a.Start(ctx) })
	waitStreaming(t, b, a, 2)

	// Crash: a (standby) goes down, b takes writes only it has, then b
	// dies; a is promoted and b's extra WAL makes it diverge.
	a.Kill()
	captureControldata(t, a, "archive-recovery", pgctl.StateInArchiveRecovery)
	write(t, b, "INSERT INTO t SELECT g, -1 FROM generate_series(1, 500) g")
	b.Kill()
	captureControldata(t, b, "production", pgctl.StateInProduction)
	timed(t, "restart standby after crash", func() error { return a.Start(ctx) })
	must(t, a.Promote(ctx))
	if st := a.status(t); st.InRecovery || st.Timeline != 3 {
		t.Fatalf("after second promote: %+v, want primary on timeline 3", st)
	}
	must(t, a.EnsureSlot(ctx, pgconf.SlotName(b.name)))
	write(t, a, "INSERT INTO t SELECT g, 3 FROM generate_series(1, 10) g")
	timed(t, "rewind (crashed, diverged)", func() error { return b.Rewind(ctx, a.connInfo("postgres")) })
	b.apply(t, a)
	must(t, b.Start(ctx))
	waitStreaming(t, a, b, 3)
	if n := count(t, b, "SELECT count(*) FROM t WHERE tl = -1"); n != 0 {
		t.Errorf("rewound member still has %d rows only the dead primary wrote", n)
	}
	if n := count(t, b, "SELECT count(*) FROM t"); n != 1110 {
		t.Errorf("rewound member has %d rows, want 1110", n)
	}
	must(t, b.Stop(ctx, pgctl.Fast))
	captureControldata(t, b, "shutdown-in-recovery", pgctl.StateShutDownInRecovery)
}

func write(t *testing.T, n *node, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		must(t, n.Exec(t.Context(), s))
	}
}

func count(t *testing.T, n *node, query string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), n.ConnString())
	must(t, err)
	defer conn.Close(context.Background())
	var c int
	must(t, conn.QueryRow(t.Context(), query).Scan(&c))
	return c
}

// waitStreaming writes on primary, then polls until standby streams from
// it on timeline tli and has received and replayed that write. The write
// matters: a standby that replays WAL it already has (after pg_rewind
// copied it) reports the streaming start as received until new WAL comes.
func waitStreaming(t *testing.T, primary, standby *node, tli uint32) {
	t.Helper()
	write(t, primary, "SELECT pg_logical_emit_message(true, 'tenure', 'beat')")
	target := primary.status(t).FlushLSN
	eventually(t, fmt.Sprintf("%s streams from %s on timeline %d up to %v", standby.name, primary.name, tli, target), func() error {
		st, err := standby.Status(t.Context())
		switch {
		case err != nil:
			return err
		case !st.InRecovery || st.Receiver == nil || st.Receiver.Status != "streaming":
			return fmt.Errorf("in recovery %v, receiver %+v", st.InRecovery, st.Receiver)
		case st.Timeline != tli || st.ReceivedLSN < target || st.ReplayedLSN < target || st.WALPosition() < target:
			return fmt.Errorf("timeline %d, received %v, replayed %v", st.Timeline, st.ReceivedLSN, st.ReplayedLSN)
		case st.Receiver.SlotName != pgconf.SlotName(standby.name) || st.Receiver.SenderHost != primary.addr:
			return fmt.Errorf("receiver %+v", st.Receiver)
		}
		return nil
	})
	ps := primary.status(t)
	i := slices.IndexFunc(ps.Replication, func(r pgctl.Replica) bool { return r.ApplicationName == standby.name })
	if i < 0 || ps.Replication[i].State != "streaming" || ps.Replication[i].ClientAddr == "" ||
		ps.Replication[i].FlushLSN < target || ps.Replication[i].SyncState != "async" {
		t.Fatalf("primary's pg_stat_replication: %+v, want %s streaming over TCP", ps.Replication, standby.name)
	}
}

// captureControldata checks the state pg_controldata reports and, with
// -update, stores the output for the parser's table test.
func captureControldata(t *testing.T, n *node, name, wantState string) {
	t.Helper()
	cd, err := n.Controldata(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if cd.State != wantState || cd.SystemID == "" || cd.CheckpointLSN == lsn.LSN(0) || !cd.DataChecksums {
		t.Fatalf("%s: controldata %+v, want state %q with a system id, checkpoint and checksums", name, cd, wantState)
	}
	if !*update {
		return
	}
	cmd := exec.Command(filepath.Join(pgBin(t), "pg_controldata"), "-D", n.DataDir())
	cmd.Env = []string{"LC_ALL=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: serverCredential(t)}
	out, err := cmd.Output()
	must(t, err)
	must(t, os.WriteFile(filepath.Join("testdata", "controldata", name+".txt"), out, 0o644))
}
