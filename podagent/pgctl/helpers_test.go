package pgctl_test

import (
	"context"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/podagent/pgconf"
	"github.com/tenure-pg/tenure/podagent/pgctl"
)

const pgHint = "install postgresql-15 (apt-get install postgresql-15) or set TENURE_PG_BIN"

// pgBin returns PostgreSQL's bin dir, or stops t through testenv.Missing.
func pgBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("TENURE_PG_BIN")
	if bin == "" {
		bin = pgctl.DefaultBinDir
	}
	for _, tool := range []string{"postgres", "initdb", "pg_basebackup", "pg_rewind", "pg_controldata"} {
		if _, err := os.Stat(filepath.Join(bin, tool)); err != nil {
			testenv.Missing(t, "PostgreSQL 15 not installed (no "+filepath.Join(bin, tool)+")", pgHint)
		}
	}
	return bin
}

// serverCredential is the user to run PostgreSQL as: nil (ourselves)
// unless the tests run as root, which postgres refuses; then the
// "postgres" user Debian's package creates.
func serverCredential(t *testing.T) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		testenv.Missing(t, "running as root and no postgres user to run PostgreSQL as", pgHint)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		t.Fatalf("postgres user ids %q/%q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
}

// ownedDir is a fresh directory directly under os.TempDir (t.TempDir's
// parents are 0700 root-owned, and its long names overflow the 107-byte
// socket path), owned by cred.
func ownedDir(t *testing.T, cred *syscall.Credential) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tenure-pgctl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// node is one member under test: an Instance on its own loopback address.
type node struct {
	*pgctl.Instance
	name string
	addr string
	port int
	dir  string
}

func newNode(t *testing.T, name string) *node {
	t.Helper()
	bin, cred := pgBin(t), serverCredential(t)
	n := &node{name: name, addr: testenv.NewLoopbackAddr(), dir: ownedDir(t, cred)}
	n.port = freePort(t, n.addr)
	var err error
	n.Instance, err = pgctl.New(pgctl.Config{
		BinDir: bin, DataDir: filepath.Join(n.dir, "data"), SocketDir: n.dir, Port: n.port,
		Credential: cred,
		Log:        hclog.New(&hclog.LoggerOptions{Name: name, Output: testWriter{t}, Level: hclog.Info}),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(n.dir, "postgres.log"))
			t.Logf("%s: postgres.log ends:\n%s", name, tail(string(b), 30))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Stop(ctx, pgctl.Immediate)
	})
	return n
}

func freePort(t *testing.T, addr string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// member is n's configuration: a primary, or a standby of primary.
func (n *node) member(primary *node) pgconf.Member {
	m := pgconf.Member{
		ListenAddresses: n.addr, Port: n.port, SocketDir: n.dir, TrustLoopback: true,
		Parameters: map[string]string{"fsync": "off", "log_min_messages": "info", "application_name": "tenure's \\ test"},
	}
	if primary != nil {
		m.Standby = &pgconf.Standby{
			PrimaryConnInfo: primary.connInfo("replicator") + " application_name=" + n.name,
			PrimarySlotName: pgconf.SlotName(n.name),
		}
	}
	return m
}

func (n *node) connInfo(user string) string {
	return "host=" + n.addr + " port=" + strconv.Itoa(n.port) + " user=" + user + " dbname=postgres connect_timeout=5"
}

func (n *node) apply(t *testing.T, primary *node) pgconf.Result {
	t.Helper()
	res, err := pgconf.Apply(n.DataDir(), n.member(primary))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (n *node) status(t *testing.T) pgctl.Status {
	t.Helper()
	st, err := n.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// timed runs f, fails t on its error and returns how long it took.
func timed(t *testing.T, what string, f func() error) time.Duration {
	t.Helper()
	began := time.Now()
	if err := f(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	took := time.Since(began)
	t.Logf("TIMING %s: %v", what, took.Round(time.Millisecond))
	return took
}

// eventually polls cond every 20 ms until it returns nil or 15 s pass.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %v after 15 s", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
