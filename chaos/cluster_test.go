package chaos

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/leaderelect/kubestore"
)

func TestMain(m *testing.M) {
	// Ryuk, testcontainers' reaper, is an image from a registry, which this
	// machine cannot reach; every test terminates what it starts.
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	testenv.Main(m)
}

// ttl is the agents' leader TTL (their default).
const ttl = 10 * time.Second

const apiToken = "chaos-test-token" // the REST API's bearer token, shared

// cluster is three tenure-agent containers on their own Docker network.
type cluster struct {
	t       testing.TB
	kube    *testenv.Kube
	ns      string
	net     *testcontainers.DockerNetwork
	subnet  netip.Prefix
	args    []string // agent flags of every member
	syncOn  bool     // synchronous mode on: healthy needs a /sync replica
	members []*member
}

type member struct {
	c     *cluster
	name  string
	ip    string
	proxy *testenv.Proxy // this member's path to the apiserver
	ctr   testcontainers.Container
}

// newCluster starts n members from image, each agent with args, and
// returns once one of them answers /primary and the others /replica.
func newCluster(t testing.TB, image string, n int, args ...string) *cluster {
	t.Helper()
	kube := testenv.StartKube(t)
	// Re-clone is the policy when a rewind fails: in a 50-round campaign one
	// pg_rewind of a former primary failed (the source's listing hit
	// ".s.PGSQL.5432": "No such device or address"), and without it that
	// member stays "needs attention" with that reason.
	args = append([]string{"--reclone-on-rewind-failure"}, args...)
	c := &cluster{t: t, kube: kube, ns: kube.Namespace(t), args: args}
	for i := range len(args) - 1 {
		c.syncOn = c.syncOn || args[i] == "--sync-mode" && args[i+1] == "on"
	}
	c.network()
	for i := range n {
		c.members = append(c.members, c.start(image, i))
	}
	c.waitRoles(90 * time.Second)
	return c
}

// network makes a bridge network on a random /24 in 10.200.0.0/13 (fixed
// addresses: the agent advertises an IP, and a killed member must come
// back on the same one), retrying when one is taken.
func (c *cluster) network() {
	t := c.t
	var err error
	for range 8 {
		c.subnet = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(200 + rand.IntN(8)), byte(rand.IntN(256)), 0}), 24)
		c.net, err = tcnetwork.New(context.Background(), tcnetwork.WithIPAM(&network.IPAM{
			Config: []network.IPAMConfig{{Subnet: c.subnet, Gateway: c.addr(1)}},
		}))
		if err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("docker network: %v", err)
	}
	t.Cleanup(func() { _ = c.net.Remove(context.Background()) })
}

// addr is host i of the subnet.
func (c *cluster) addr(i int) netip.Addr {
	a := c.subnet.Addr().As4()
	a[3] = byte(i)
	return netip.AddrFrom4(a)
}

// start creates member i's Pod object, ServiceAccount and API proxy, and
// its container.
func (c *cluster) start(image string, i int) *member {
	t := c.t
	ctx := context.Background()
	m := &member{c: c, name: fmt.Sprintf("pg-%d", i), ip: c.addr(11 + i).String()}
	var err error
	if m.proxy, err = testenv.NewProxyOn(c.addr(1).String(), c.kube.Addr()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.proxy.Close)
	pod, err := c.kube.AdminClient().CoreV1().Pods(c.ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: m.name, Labels: map[string]string{kubestore.LabelCluster: "pg"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "postgres", Image: image}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"pg-0", "pg-1", "pg-2", "pg-3", "pg-4"}
	cfg, err := c.kube.ServiceAccountConfig(ctx, c.ns, m.name, kubestore.PolicyRules("pg", names))
	if err != nil {
		t.Fatal(err)
	}
	kc := clientcmdapi.NewConfig()
	// The serving certificate names localhost, not the gateway address.
	kc.Clusters["chaos"] = &clientcmdapi.Cluster{Server: "https://" + m.proxy.Addr(), CertificateAuthorityData: cfg.CAData, TLSServerName: "localhost"}
	kc.AuthInfos["agent"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["chaos"] = &clientcmdapi.Context{Cluster: "chaos", AuthInfo: "agent", Namespace: c.ns}
	kc.CurrentContext = "chaos"
	kubeconfig, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatal(err)
	}
	trusted := c.subnet.String()
	req := testcontainers.ContainerRequest{
		Image: image,
		Name:  fmt.Sprintf("tenure-chaos-%s-%s", c.ns, m.name),
		Env: map[string]string{
			"TENURE_CLUSTER": "pg", "POD_NAME": m.name, "POD_NAMESPACE": c.ns, "POD_UID": string(pod.UID), "POD_IP": m.ip,
			"KUBECONFIG": "/etc/tenure/kubeconfig", "TENURE_API_TOKEN_FILE": "/etc/tenure/api-token",
			// No passwords yet: peers and the test client are trusted by subnet.
			"TENURE_PG_HBA": "host all all " + trusted + " trust;host replication all " + trusted + " trust",
		},
		Files: []testcontainers.ContainerFile{
			{Reader: bytes.NewReader(kubeconfig), ContainerFilePath: "/etc/tenure/kubeconfig", FileMode: 0o644},
			{Reader: strings.NewReader(apiToken + "\n"), ContainerFilePath: "/etc/tenure/api-token", FileMode: 0o644},
		},
		// TENURE_CHAOS_AGENT_ARGS adds agent flags, e.g. --commit-gate=false
		// to see the pause test catch a primary that acknowledges late.
		Cmd:      append(slices.Clone(c.args), strings.Fields(os.Getenv("TENURE_CHAOS_AGENT_ARGS"))...),
		Networks: []string{c.net.Name},
		EndpointSettingsModifier: func(eps map[string]*network.EndpointSettings) {
			ep := eps[c.net.Name]
			if ep == nil {
				ep = &network.EndpointSettings{}
				eps[c.net.Name] = ep
			}
			ep.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: netip.MustParseAddr(m.ip)}
		},
	}
	m.ctr, err = testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{ContainerRequest: req, Started: true})
	if err != nil {
		t.Fatalf("start %s: %v", m.name, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			m.dumpLog()
		}
		_ = exec.Command("docker", "unpause", m.ctr.GetContainerID()).Run()
		_ = m.ctr.Terminate(context.Background())
	})
	return m
}

// dumpLog logs the tail of the member's container log.
func (m *member) dumpLog() {
	out, _ := exec.Command("docker", "logs", "--tail", "60", m.ctr.GetContainerID()).CombinedOutput()
	m.c.t.Logf("%s log ends:\n%s", m.name, out)
}

// docker runs a docker CLI command on the member's container: kill,
// pause, unpause, start.
func (m *member) docker(args ...string) {
	m.c.t.Helper()
	args = append(args, m.ctr.GetContainerID())
	if out, err := exec.Command("docker", args...).CombinedOutput(); err != nil {
		m.c.t.Fatalf("docker %s %s: %v: %s", args[0], m.name, err, out)
	}
}

var probe = &http.Client{Timeout: 500 * time.Millisecond}

// role probes GET /<role> on the member's REST API: 200 or not.
func (m *member) is(role string) bool {
	resp, err := probe.Get("http://" + m.ip + ":8008/" + role)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// dsn is a libpq URL of the member's postgres.
func (m *member) dsn() string {
	return "postgres://postgres@" + m.ip + ":5432/postgres?sslmode=disable&connect_timeout=2"
}

// primary returns the member answering /primary, or nil.
func (c *cluster) primary() *member {
	for _, m := range c.members {
		if m.is("primary") {
			return m
		}
	}
	return nil
}

// waitRoles waits until one member is primary and every other a replica,
// one of them synchronous in synchronous mode: only a published
// synchronous standby may be promoted, so a fault struck before a new
// primary published one leaves the cluster rightly without a leader.
func (c *cluster) waitRoles(within time.Duration) *member {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if p := c.primary(); p != nil {
			ok, sync := true, !c.syncOn
			for _, m := range c.members {
				if m != p && !m.is("replica") {
					ok = false
				}
				sync = sync || m != p && m.is("sync")
			}
			ok = ok && sync
			if ok {
				return p
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, m := range c.members {
		m.dumpLog()
	}
	c.t.Fatalf("no primary with %d replicas within %v", len(c.members)-1, within)
	return nil
}
