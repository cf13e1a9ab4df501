package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/internal/testenv"
	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/leaderelect/kubestore"
)

// call sends method path to m's API with the given Authorization header
// ("" for none) and returns the status code and body.
func call(t *testing.T, m *member, method, path, auth, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, m.api+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := (&http.Client{Timeout: 90 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAgentSecurityProbes replays the probes of issue #12 against real
// agents: nothing unsafe without the token (finding 1, 6), nothing
// accepted that does not render (2, 3), parameter changes applied
// without a reload (3), and a bad parameter written straight into the
// ConfigMap (as by hand) never takes a member down (2).
func TestAgentSecurityProbes(t *testing.T) {
	c := newCluster(t, testenv.Shared(t), 2)
	p := startHealthy(t, c)
	r := other(c, p)
	bearer := "Bearer " + apiToken

	// Finding 1 and 6: no token, no command; the failsafe endpoint too.
	for _, u := range []struct{ method, path, body string }{
		{"PATCH", "/config", `{"parameters":{"archive_mode":"always","archive_command":"touch x-%f"}}`},
		{"POST", "/restart", ""}, {"POST", "/reload", ""}, {"POST", "/switchover", `{"leader":"` + p.name + `"}`},
		{"POST", "/failsafe", `{"leader":"` + p.name + `","epoch":1}`},
	} {
		for _, auth := range []string{"", "Bearer wrong", "bearer " + apiToken + "x"} {
			if code, body := call(t, r, u.method, u.path, auth, u.body); code != http.StatusUnauthorized {
				t.Errorf("%s %s with %q = %d %s, want 401", u.method, u.path, auth, code, body)
			}
		}
	}
	if code, _ := call(t, r, "POST", "/failsafe", "BEARER "+apiToken, `{"leader":"nobody","epoch":1}`); code == http.StatusUnauthorized {
		t.Error("/failsafe refused the right token with an upper-case scheme")
	}
	if !strings.Contains(r.logTail("agent.log", 400), `auth="bearer token" tls=false`) {
		t.Error("agent log does not say how the API is protected")
	}

	// Findings 2 and 3: refused, by name, with the token.
	for patch, want := range map[string]string{
		`{"parameters":{"archive_mode":"always","archive_command":"touch x-%f"}}`: `"archive_command"`,
		`{"parameters":{"work_mem":"4MB\nport = 1"}}`:                             "line break",
		`{"parameters":{"x = 1\ninclude":"1"}}`:                                   "not a parameter name",
		`{"parameters":{"port":"5999"}}`:                                          `"port"`,
		`{"parameters":{"include_dir":"/tmp"}}`:                                   `"include_dir"`,
		`{"synchronous_mode":"garbage"}`:                                          `synchronous_mode "garbage"`,
		`{"synchronous_node_count":100000}`:                                       "synchronous_node_count 100000",
	} {
		if code, body := call(t, p, "PATCH", "/config", bearer, patch); code != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("PATCH /config %s = %d %q, want 400 naming %s", patch, code, body, want)
		}
	}
	if code, body := call(t, p, "PATCH", "/config", bearer, `{"synchronous_mode":"true"}`); code != 200 || !strings.Contains(body, `"synchronous_mode":"on"`) {
		t.Errorf(`PATCH synchronous_mode "true" = %d %s, want 200 stored as "on"`, code, body)
	}
	if code, body := call(t, p, "PATCH", "/config", bearer, `{"synchronous_mode":"off"}`); code != 200 {
		t.Errorf("PATCH synchronous_mode off = %d %s", code, body)
	}

	// Finding 3: a reload-context parameter applies with no /reload.
	if code, body := call(t, p, "PATCH", "/config", bearer, `{"parameters":{"work_mem":"7MB"}}`); code != 200 {
		t.Fatalf("PATCH work_mem = %d %s", code, body)
	}
	waitSetting(t, c, "work_mem", "7MB")

	// Finding 2: a parameter that cannot render, written straight into
	// the ConfigMap, is reported and skipped; the good one beside it
	// applies; reload and a replica's restart work; nobody goes down.
	st := adminStore(t, c)
	if _, err := st.Update(context.Background(), func(s *leaderelect.State) error {
		s.Config.Parameters["port"] = "1"
		s.Config.Parameters["x = 1\ninclude"] = "1"
		s.Config.Parameters["work_mem"] = "9MB"
		s.Config.SynchronousMode = "garbage"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	waitSetting(t, c, "work_mem", "9MB")
	testenv.Eventually(t, 10*time.Second, "config_error reported", func() bool {
		s, err := r.status()
		return err == nil && strings.Contains(s.Tenure.ConfigError, `"port"`) && strings.Contains(s.Tenure.ConfigError, `synchronous_mode "garbage"`)
	})
	// Off: the commit gate alone (podagent/gate), no real standby.
	if sync, _ := query[string](t, p, "SHOW synchronous_standby_names"); sync != `FIRST 1 ("tenure_gate")` {
		t.Errorf("synchronous_mode garbage read as on by the agent: synchronous_standby_names = %q", sync)
	}
	if code, body := call(t, r, "POST", "/reload", bearer, ""); code != http.StatusAccepted {
		t.Errorf("POST /reload with a bad stored parameter = %d %s, want 202", code, body)
	}
	if code, body := call(t, r, "POST", "/restart", bearer, ""); code != http.StatusOK {
		t.Errorf("POST /restart of the replica with a bad stored parameter = %d %s, want 200", code, body)
	}
	c.waitStreaming(r, 30*time.Second)
	if code := p.get("/primary"); code != http.StatusOK {
		t.Errorf("primary answers /primary %d after the bad parameter", code)
	}
	if err := exec1(t, p, "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	waitRows(t, c, r, "t", 1)

	// A patch is refused while the stored configuration has settings that
	// do not render, and says which; one that also repairs them is
	// accepted and the error clears. A postmaster parameter in it shows as
	// pending_restart with no reload asked for; a restart applies it.
	if code, body := call(t, p, "PATCH", "/config", bearer, `{"parameters":{"max_connections":"120"}}`); code != http.StatusBadRequest || !strings.Contains(body, "garbage") {
		t.Errorf("PATCH over a broken stored config = %d %s, want 400 naming the broken setting", code, body)
	}
	repair := `{"synchronous_mode":"off","parameters":{"port":null,"x = 1\ninclude":null,"max_connections":"120"}}`
	if code, body := call(t, p, "PATCH", "/config", bearer, repair); code != 200 {
		t.Fatalf("PATCH repairing the config = %d %s", code, body)
	}
	testenv.Eventually(t, 10*time.Second, "config_error cleared", func() bool {
		s, err := r.status()
		return err == nil && s.Tenure.ConfigError == ""
	})
	testenv.Eventually(t, 15*time.Second, "pending_restart on the replica", func() bool {
		s, err := r.status()
		return err == nil && s.PendingRestart
	})
	if code, body := call(t, r, "POST", "/restart", bearer, `{"restart_pending":true}`); code != http.StatusOK {
		t.Fatalf("POST /restart pending = %d %s", code, body)
	}
	c.waitStreaming(r, 30*time.Second)
	if v, err := query[string](t, r, "SHOW max_connections"); err != nil || v != "120" {
		t.Errorf("replica max_connections after the restart = %q, %v; want 120", v, err)
	}
}

// waitSetting polls until every member's postgres shows name = want.
func waitSetting(t *testing.T, c *cluster, name, want string) {
	t.Helper()
	for _, m := range c.members {
		testenv.Eventually(t, 15*time.Second, m.name+" "+name+" = "+want, func() bool {
			v, err := query[string](t, m, "SHOW "+name)
			return err == nil && v == want
		})
	}
}

// adminStore opens the cluster's records with the admin's rights, as a
// person editing the ConfigMap by hand would: no API validation.
func adminStore(t *testing.T, c *cluster) *leaderelect.Store {
	t.Helper()
	be, err := kubestore.New(c.kube.AdminClient(), kubestore.Config{Namespace: c.ns, Cluster: c.name, Member: "e2e-admin"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := leaderelect.New(context.Background(), be, leaderelect.Default(c.name, "e2e-admin"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}
