package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/leaderelect/kubestore"
	"github.com/tenure-pg/tenure/podagent/api"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// buildAgent is tenure-agent, built once per test binary where the
// postgres user can execute it.
func buildAgent(t testing.TB) string { return testenv.AgentBinary(t) }

// apiToken is the REST API bearer token every agent of these tests
// requires on unsafe methods (auth is on by default), as the operator
// will put one per cluster in a Secret.
var apiToken = func() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}()

// apiRequest sends an authorized request to an agent's REST API.
func apiRequest(method, url, body string) (*http.Response, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+apiToken)
	return http.DefaultClient.Do(req)
}

// apiPost is http.Post with the token.
func apiPost(url, body string) (*http.Response, error) { return apiRequest(http.MethodPost, url, body) }

type cluster struct {
	t       testing.TB
	kube    *testenv.Kube
	ns      string
	name    string
	members []*member
	extra   []string // extra agent flags for every member
	env     []string // extra environment of every agent (and its postgres)
}

type member struct {
	c      *cluster
	name   string
	ip     string
	pgPort int
	api    string // base URL
	dir    string
	proxy  *testenv.Proxy
	cmd    *exec.Cmd
	done   chan struct{}
	log    *os.File
	extra  []string
}

func newCluster(t testing.TB, kube *testenv.Kube, n int, extra ...string) *cluster {
	c := &cluster{t: t, kube: kube, ns: kube.Namespace(t), name: "pg", extra: extra}
	for i := range n {
		c.members = append(c.members, c.newMember(fmt.Sprintf("pg-%d", i)))
	}
	return c
}

func (c *cluster) newMember(name string) *member {
	t := c.t
	ip := testenv.NewLoopbackAddr()
	m := &member{c: c, name: name, ip: ip, pgPort: freePort(t, ip), dir: testenv.OwnedDir(t), proxy: c.kube.Proxy(t)}
	m.api = fmt.Sprintf("http://%s:%d", ip, freePort(t, ip))
	ctx := context.Background()
	pod, err := c.kube.AdminClient().CoreV1().Pods(c.ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{kubestore.LabelCluster: c.name}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "postgres", Image: "tenure:test"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.kube.ServiceAccountConfig(ctx, c.ns, name, kubestore.PolicyRules(c.name, c.memberNames(name)))
	if err != nil {
		t.Fatal(err)
	}
	cfg = testenv.ConfigVia(m.proxy, cfg)
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData, TLSServerName: cfg.ServerName}
	kc.AuthInfos["agent"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "agent", Namespace: c.ns}
	kc.CurrentContext = "test"
	if err := clientcmd.WriteToFile(*kc, m.path("kubeconfig")); err != nil {
		t.Fatal(err)
	}
	m.own(m.path("kubeconfig"))
	if err := os.WriteFile(m.path("api-token"), []byte(apiToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m.own(m.path("api-token"))
	m.extra = []string{"--pod-uid", string(pod.UID), "--api-token-file", m.path("api-token")}
	return m
}

func (m *member) path(name string) string { return filepath.Join(m.dir, name) }

// memberNames are the names the cluster's RBAC rules cover: its members
// so far, one being added, and a few more for members a test adds later
// (the operator will render the rules from numberOfInstances).
func (c *cluster) memberNames(adding string) []string {
	names := []string{adding}
	for _, m := range c.members {
		names = append(names, m.name)
	}
	for i := range 10 {
		names = append(names, fmt.Sprintf("%s-%d", c.name, i))
	}
	return names
}

func (m *member) own(path string) {
	if cred := testenv.ServerCredential(m.c.t); cred != nil {
		if err := os.Chown(path, int(cred.Uid), int(cred.Gid)); err != nil {
			m.c.t.Fatal(err)
		}
	}
}

func freePort(t testing.TB, ip string) int { return testenv.FreePort(t, ip) }

// start launches the agent process.
func (m *member) start() {
	t := m.c.t
	apiPort := m.api[strings.LastIndex(m.api, ":")+1:]
	args := []string{
		"--cluster", m.c.name, "--name", m.name, "--namespace", m.c.ns, "--pod-ip", m.ip,
		"--data-dir", m.path("data"), "--socket-dir", m.dir, "--listen", m.ip, "--port", strconv.Itoa(m.pgPort),
		"--api-listen", m.ip + ":" + apiPort, "--api-url", m.api, "--kubeconfig", m.path("kubeconfig"),
		"--trust-loopback", "--log-level", "debug",
	}
	args = append(append(args, m.extra...), m.c.extra...)
	if bin := os.Getenv("TENURE_PG_BIN"); bin != "" {
		args = append(args, "--bin-dir", bin)
	}
	log, err := os.OpenFile(m.path("agent.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(buildAgent(t), args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = append(append(os.Environ(), "HOME="+m.dir), m.c.env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: testenv.ServerCredential(t)}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start agent %s: %v", m.name, err)
	}
	m.cmd, m.log, m.done = cmd, log, make(chan struct{})
	go func() { _ = cmd.Wait(); close(m.done) }()
	t.Cleanup(func() { m.kill9() })
}

// kill9 kills the agent and its postgres with SIGKILL, as a node loss.
func (m *member) kill9() {
	if m.cmd == nil {
		return
	}
	pgPID := m.postmasterPID()
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
	if pgPID > 0 {
		_ = syscall.Kill(-pgPID, syscall.SIGKILL)
		_ = syscall.Kill(pgPID, syscall.SIGKILL)
	}
	<-m.done
	m.cmd = nil
	m.log.Close()
	waitGone(pgPID)
}

// stop sends SIGTERM (graceful stop) and waits for the agent to exit.
func (m *member) stop(timeout time.Duration) {
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(timeout):
		m.c.t.Errorf("agent %s did not exit within %v of SIGTERM", m.name, timeout)
		m.kill9()
		return
	}
	m.cmd = nil
	m.log.Close()
}

func (m *member) postmasterPID() int {
	b, err := os.ReadFile(filepath.Join(m.path("data"), "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	return pid
}

func waitGone(pid int) {
	for deadline := time.Now().Add(10 * time.Second); pid > 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
	}
}

var httpc = &http.Client{Timeout: 2 * time.Second}

// get returns the status code of GET path on m's API (0 when unreachable).
func (m *member) get(path string) int {
	resp, err := httpc.Get(m.api + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (m *member) status() (api.Status, error) {
	return api.Fetch(context.Background(), httpc, m.api)
}

func (m *member) dsn() string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable connect_timeout=2", m.ip, m.pgPort)
}

// logTail is the end of one of the member's logs, for failure messages.
func (m *member) logTail(name string, n int) string {
	b, _ := os.ReadFile(m.path(name))
	lines := strings.Split(string(b), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (c *cluster) dumpLogs() {
	for _, m := range c.members {
		c.t.Logf("--- %s agent log ---\n%s", m.name, m.logTail("agent.log", 40))
		c.t.Logf("--- %s postgres log ---\n%s", m.name, m.logTail("postgres.log", 15))
	}
}

func (c *cluster) startAll() {
	for _, m := range c.members {
		m.start()
	}
	if os.Getenv("TENURE_E2E_LOGS") != "" { // the agents' story on success too
		c.t.Cleanup(c.dumpLogs) // registered last: runs before the logs are removed
	}
}

// waitPrimary polls until exactly one member answers /primary with 200
// and returns it.
func (c *cluster) waitPrimary(timeout time.Duration, not ...*member) *member {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var found []*member
		for _, m := range c.members {
			if m.get("/primary") == http.StatusOK {
				found = append(found, m)
			}
		}
		if len(found) > 1 {
			c.dumpLogs()
			c.t.Fatalf("two members answer /primary: %s and %s", found[0].name, found[1].name)
		}
		if len(found) == 1 && !contains(not, found[0]) {
			return found[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.dumpLogs()
	c.t.Fatalf("no primary within %v", timeout)
	return nil
}

func contains(ms []*member, m *member) bool {
	for _, x := range ms {
		if x == m {
			return true
		}
	}
	return false
}

// waitStreaming polls until m is a replica streaming on timeline tl (0: any).
func (c *cluster) waitStreaming(m *member, timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if m.get("/replica?replication_state=streaming") == http.StatusOK {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	st, err := m.status()
	js, _ := json.Marshal(st)
	c.dumpLogs()
	c.t.Fatalf("%s not streaming within %v: %s %v", m.name, timeout, js, err)
}

type apiReplication = api.Replication

// cliBin builds the tenure CLI once.
func cliBin(t testing.TB) string {
	dir := filepath.Dir(buildAgent(t))
	bin := filepath.Join(dir, "tenure")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	out, err := exec.Command("go", "build", "-o", bin, "github.com/tenure-pg/tenure/cmd/tenure").CombinedOutput()
	if err != nil {
		t.Fatalf("build tenure: %v\n%s", err, out)
	}
	return bin
}
