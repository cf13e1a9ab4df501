package pgctl_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenure-pg/tenure/podagent/pgconf"
	"github.com/tenure-pg/tenure/podagent/pgctl"
)

// TestLifecycle exercises one real server: refusals while it runs, roles,
// slots, reload, restart hints, stop modes, a foreign postmaster, a crash
// and a failed start.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	n := newNode(t, "solo")
	must(t, n.InitDB(ctx, pgctl.InitOptions{NoSync: true, SuperuserPassword: "initial"}))
	m := n.member(nil)
	m.Parameters["wal_level"] = "logical"                                     // for a logical slot in "slots"
	m.Parameters["log_statement"] = "all"                                     // "roles" checks no password is logged
	m.HBA = []string{"host all pwuser,\"pw user\" 127.0.0.0/8 scram-sha-256"} // before the trusted loopback
	mustApply(t, n, m)
	must(t, n.Start(ctx))

	t.Run("refusals while running", func(t *testing.T) { refusalsWhileRunning(t, n) })
	t.Run("roles", func(t *testing.T) { roles(t, n) })
	t.Run("slots", func(t *testing.T) { slots(t, n) })
	t.Run("reload and restart hint", func(t *testing.T) { reloadAndRestartHint(t, n, m) })
	t.Run("smart stop escalates", func(t *testing.T) { smartStopEscalates(t, n) })
	t.Run("foreign postmaster", func(t *testing.T) { foreignPostmaster(t, n) })
	t.Run("kill and crash recovery", func(t *testing.T) { killAndRecover(t, n) })
	t.Run("postmaster crash with a busy orphan", func(t *testing.T) { postmasterCrash(t, n) })
	t.Run("failed start", func(t *testing.T) { failedStart(t, n, m) })
	t.Run("failed basebackup cleans up", func(t *testing.T) { failedBasebackup(t, n) })
	t.Run("rewind from another system", func(t *testing.T) { rewindOtherSystem(t, n) })
	t.Run("wipe", func(t *testing.T) {
		must(t, n.Stop(ctx, pgctl.Fast))
		must(t, n.Wipe(ctx))
		if st, err := n.DataDirState(); err != nil || st != pgctl.DirEmpty {
			t.Fatalf("after Wipe: %v, %v; want empty", st, err)
		}
	})
}

func mustApply(t *testing.T, n *node, m pgconf.Member) pgconf.Result {
	t.Helper()
	res, err := pgconf.Apply(n.DataDir(), m)
	must(t, err)
	return res
}

func refusalsWhileRunning(t *testing.T, n *node) {
	ctx := t.Context()
	if err := n.Start(ctx); !errors.Is(err, pgctl.ErrAlreadyRunning) {
		t.Errorf("second Start: %v, want ErrAlreadyRunning", err)
	}
	other := twin(t, n)
	if err := other.Start(ctx); !errors.Is(err, pgctl.ErrAlreadyRunning) || !strings.Contains(err.Error(), "postmaster.pid") {
		t.Errorf("Start by another Instance: %v, want ErrAlreadyRunning from postmaster.pid", err)
	}
	if err := other.Wipe(ctx); !errors.Is(err, pgctl.ErrAlreadyRunning) {
		t.Errorf("Wipe while running: %v, want ErrAlreadyRunning", err)
	}
	if err := n.Rewind(ctx, "host=nowhere"); !errors.Is(err, pgctl.ErrAlreadyRunning) {
		t.Errorf("Rewind while running: %v, want ErrAlreadyRunning", err)
	}
	if err := n.InitDB(ctx, pgctl.InitOptions{}); !errors.Is(err, pgctl.ErrNotEmpty) {
		t.Errorf("InitDB over a cluster: %v, want ErrNotEmpty", err)
	}
	if err := n.Promote(ctx); !errors.Is(err, pgctl.ErrNotInRecovery) {
		t.Errorf("Promote of a primary: %v, want ErrNotInRecovery", err)
	}
	if !n.Running() {
		t.Error("Running() = false while up")
	}
	select {
	case <-n.Exited():
		t.Error("Exited() closed while up")
	default:
	}
	st := n.status(t)
	if st.PostmasterStart.IsZero() || st.SyncStandbyNames != "" || st.PendingRestart || st.Receiver != nil || len(st.Replication) != 0 {
		t.Errorf("status of a lone primary: %+v", st)
	}
}

// twin is a second Instance on n's data directory.
func twin(t *testing.T, n *node) *pgctl.Instance {
	t.Helper()
	in, err := pgctl.New(pgctl.Config{BinDir: pgBin(t), DataDir: n.DataDir(), SocketDir: n.dir, Port: n.port,
		Credential: serverCredential(t)})
	must(t, err)
	return in
}

func roles(t *testing.T, n *node) {
	ctx := t.Context()
	for _, c := range []struct{ role, password string }{
		{"pwuser", "correct horse"}, {"pwuser", "battery staple"}, // create, then alter
		{"pw user", `pässwört with ' and \`}, // non-ASCII: sent as text with logging off
	} {
		must(t, n.EnsureRole(ctx, c.role, c.password, false))
		if err := login(ctx, n, c.role, c.password); err != nil {
			t.Errorf("login %q after EnsureRole: %v", c.role, err)
		}
		if err := login(ctx, n, c.role, "wrong"); err == nil {
			t.Errorf("login %q with a wrong password succeeded", c.role)
		}
	}
	must(t, n.EnsureRole(ctx, "pwuser", "", true)) // password unchanged, replication added
	if err := login(ctx, n, "pwuser", "battery staple"); err != nil {
		t.Errorf("EnsureRole without a password changed it: %v", err)
	}
	if c := count(t, n, "SELECT count(*) FROM pg_roles WHERE rolname = 'pwuser' AND rolreplication AND rolcanlogin"); c != 1 {
		t.Error("pwuser lacks LOGIN REPLICATION")
	}
	b, _ := os.ReadFile(filepath.Join(n.dir, "postgres.log"))
	if strings.Contains(string(b), "horse") || strings.Contains(string(b), "pässwört") {
		t.Error("a password reached the server log")
	}
}

// login connects over TCP, where pg_hba.conf demands scram-sha-256.
func login(ctx context.Context, n *node, role, password string) error {
	cfg, err := pgx.ParseConfig("host=" + n.addr + " dbname=postgres sslmode=disable connect_timeout=5")
	if err != nil {
		return err
	}
	cfg.Port, cfg.User, cfg.Password = uint16(n.port), role, password
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

func slots(t *testing.T, n *node) {
	ctx := t.Context()
	must(t, n.EnsureSlot(ctx, "member_1"))
	must(t, n.EnsureSlot(ctx, "member_1"))
	must(t, n.Exec(ctx, "SELECT pg_create_logical_replication_slot('logical_1', 'test_decoding')"))
	if err := n.EnsureSlot(ctx, "logical_1"); err == nil {
		t.Error("EnsureSlot over a logical slot succeeded")
	}
	if err := n.EnsureSlot(ctx, "Member-1"); !errors.Is(err, pgctl.ErrInvalid) {
		t.Errorf("EnsureSlot(Member-1): %v, want ErrInvalid", err)
	}
	got, err := n.Slots(ctx)
	if must(t, err); !slices.Equal(got, []string{"member_1"}) {
		t.Errorf("Slots = %v, want [member_1] (physical only)", got)
	}
	if c := count(t, n, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'member_1' AND restart_lsn IS NOT NULL"); c != 1 {
		t.Error("slot does not reserve WAL")
	}
	must(t, n.DropSlot(ctx, "member_1"))
	must(t, n.DropSlot(ctx, "member_1"))
	must(t, n.DropSlot(ctx, "logical_1"))
	if got, _ := n.Slots(ctx); len(got) != 0 {
		t.Errorf("Slots after DropSlot = %v", got)
	}
}

func reloadAndRestartHint(t *testing.T, n *node, m pgconf.Member) {
	ctx := t.Context()
	m.Parameters["work_mem"] = "7MB"
	m.Parameters["shared_buffers"] = "64MB"
	res := mustApply(t, n, m)
	if !res.Changed || !slices.Equal(res.RestartNeeded, []string{"shared_buffers"}) {
		t.Errorf("Apply = %+v, want changed and shared_buffers needing a restart", res)
	}
	must(t, n.Reload(ctx))
	eventually(t, "work_mem reloaded and restart pending", func() error {
		var workMem string
		conn, err := pgx.Connect(ctx, n.ConnString())
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, "SHOW work_mem").Scan(&workMem); err != nil || workMem != "7MB" {
			return errors.New("work_mem = " + workMem)
		}
		if !n.status(t).PendingRestart {
			return errors.New("no pending restart")
		}
		return nil
	})
	// The server's own parser reads pgconf's quoting back.
	var appName string
	conn, err := pgx.Connect(ctx, n.ConnString())
	must(t, err)
	defer conn.Close(ctx)
	must(t, conn.QueryRow(ctx, "SELECT setting FROM pg_file_settings WHERE name = 'application_name' AND applied").Scan(&appName))
	if want := m.Parameters["application_name"]; appName != want {
		t.Errorf("application_name from postgresql.conf reads %q on the server, want %q", appName, want)
	}
	delete(m.Parameters, "shared_buffers")
	mustApply(t, n, m)
}

func smartStopEscalates(t *testing.T, n *node) {
	conn, err := pgx.Connect(t.Context(), n.ConnString()) // a smart shutdown waits for it
	must(t, err)
	defer conn.Close(context.Background())
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	began := time.Now()
	must(t, n.Stop(ctx, pgctl.Smart))
	if took := time.Since(began); took < 300*time.Millisecond || n.Running() {
		t.Errorf("smart stop with a client returned after %v, running %v; want escalation after 300ms", took, n.Running())
	}
	must(t, n.Stop(t.Context(), pgctl.Fast)) // nothing running: nil
	if err := n.Reload(t.Context()); !errors.Is(err, pgctl.ErrNotRunning) {
		t.Errorf("Reload while stopped: %v, want ErrNotRunning", err)
	}
	must(t, n.Start(t.Context()))
}

// foreignPostmaster: an Instance that did not start the server (an agent
// restarted while postgres ran) can still stop it.
func foreignPostmaster(t *testing.T, n *node) {
	exited := n.Exited()
	must(t, twin(t, n).Stop(t.Context(), pgctl.Fast))
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("server still running after another Instance stopped it")
	}
	must(t, n.Start(t.Context()))
}

func killAndRecover(t *testing.T, n *node) {
	exited := n.Exited()
	n.Kill()
	select {
	case <-exited:
	default:
		t.Fatal("Exited() not closed after Kill")
	}
	if n.Running() {
		t.Error("Running() after Kill")
	}
	cd, err := n.Controldata(t.Context())
	if must(t, err); cd.State != pgctl.StateInProduction || cd.CleanShutdown() {
		t.Errorf("controldata after Kill: %+v", cd)
	}
	must(t, n.Start(t.Context()))
	if c := count(t, n, "SELECT 1"); c != 1 {
		t.Error("not serving after crash recovery")
	}
}

// postmasterCrash: only the postmaster dies (say, the OOM killer's pick).
// A backend busy in a loop does not check for the postmaster's death and
// holds the shared memory on; Start must wait for it rather than fail
// with "pre-existing shared memory block is still in use".
func postmasterCrash(t *testing.T, n *node) {
	busy := make(chan struct{})
	go func() {
		defer close(busy)
		conn, err := pgx.Connect(context.Background(), n.ConnString())
		if err == nil {
			_, _ = conn.Exec(context.Background(),
				"DO $$ BEGIN WHILE clock_timestamp() < now() + interval '1.5 s' LOOP END LOOP; END $$")
			conn.Close(context.Background())
		}
	}()
	eventually(t, "busy loop running", func() error {
		if count(t, n, "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'DO %'") != 1 {
			return errors.New("not active")
		}
		return nil
	})
	exited := n.Exited()
	b, err := os.ReadFile(filepath.Join(n.DataDir(), "postmaster.pid"))
	must(t, err)
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	must(t, err)
	must(t, syscall.Kill(pid, syscall.SIGKILL))
	<-exited
	timed(t, "start after the postmaster died alone", func() error { return n.Start(t.Context()) })
	if c := count(t, n, "SELECT 1"); c != 1 {
		t.Error("not serving after the postmaster crash")
	}
	<-busy // the loop ends normally: its backend exits once it is idle
}

func failedStart(t *testing.T, n *node, m pgconf.Member) {
	must(t, n.Stop(t.Context(), pgctl.Fast))
	m.Parameters["shared_buffers"] = "lots"
	mustApply(t, n, m)
	err := n.Start(t.Context())
	if err == nil || !strings.Contains(err.Error(), `invalid value for parameter "shared_buffers"`) {
		t.Errorf("Start with a bad parameter: %v, want the log's reason", err)
	}
	if n.Running() {
		t.Error("Running() after a failed start")
	}
	delete(m.Parameters, "shared_buffers")
	mustApply(t, n, m)
	must(t, n.Start(t.Context()))
}

func failedBasebackup(t *testing.T, n *node) {
	for _, existed := range []bool{false, true} {
		dir := filepath.Join(n.dir, "clone")
		if existed {
			must(t, os.Mkdir(dir, 0o700))
			if cred := serverCredential(t); cred != nil {
				must(t, os.Chown(dir, int(cred.Uid), int(cred.Gid)))
			}
		}
		in, err := pgctl.New(pgctl.Config{BinDir: pgBin(t), DataDir: dir, SocketDir: n.dir, Port: n.port + 1,
			Credential: serverCredential(t)})
		must(t, err)
		// The server runs, but not for this role: the clone fails after
		// pg_basebackup created the directory.
		err = in.Basebackup(t.Context(), pgctl.BasebackupOptions{ConnString: n.connInfo("nobody"), CheckpointFast: true})
		if err == nil {
			t.Fatal("Basebackup as a missing role succeeded")
		}
		want := pgctl.DirMissing
		if existed {
			want = pgctl.DirEmpty
		}
		if st, _ := in.DataDirState(); st != want {
			t.Errorf("after a failed clone into a %v dir: %v", want, st)
		}
		_ = os.RemoveAll(dir)
	}
}

func rewindOtherSystem(t *testing.T, n *node) {
	other := newNode(t, "other")
	must(t, other.InitDB(t.Context(), pgctl.InitOptions{NoSync: true}))
	err := other.Rewind(t.Context(), n.connInfo("postgres"))
	if !errors.Is(err, pgctl.ErrRewindImpossible) || !strings.Contains(err.Error(), "different systems") {
		t.Errorf("Rewind from another cluster: %v, want ErrRewindImpossible", err)
	}
}
