package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/internal/testenv"
)

func post(t *testing.T, url, body string) int {
	t.Helper()
	resp, err := apiPost(url, body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRestartAndReinitializeReplica restarts a replica's postgres and
// then wipes and re-clones it through the REST API; it streams again and
// has the data each time. The leader refuses to be reinitialized.
func TestRestartAndReinitializeReplica(t *testing.T) {
	c := newCluster(t, testenv.Shared(t), 2)
	p := startHealthy(t, c)
	r := other(c, p)
	if err := exec1(t, p, "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	waitRows(t, c, r, "t", 1)
	before, err := r.status()
	if err != nil {
		t.Fatal(err)
	}

	if code := post(t, r.api+"/restart", `{}`); code != http.StatusOK {
		c.dumpLogs()
		t.Fatalf("restart answered %d", code)
	}
	c.waitStreaming(r, 60*time.Second)
	after, err := r.status()
	if err != nil || after.PostmasterStartTime == before.PostmasterStartTime {
		t.Fatalf("postmaster start time %q -> %q (err %v): not restarted", before.PostmasterStartTime, after.PostmasterStartTime, err)
	}

	if code := post(t, p.api+"/reinitialize", `{}`); code < 400 {
		t.Fatalf("the leader accepted a reinitialize (%d)", code)
	}
	if code := post(t, r.api+"/reinitialize", `{"force": tru`); code != http.StatusBadRequest {
		t.Fatalf("malformed reinitialize answered %d, want 400", code)
	}
	marker := filepath.Join(r.path("data"), "tenure-test-marker")
	if err := os.WriteFile(marker, []byte("gone after a re-clone"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := post(t, r.api+"/reinitialize", `{}`); code != http.StatusOK {
		c.dumpLogs()
		t.Fatalf("reinitialize answered %d", code)
	}
	c.waitStreaming(r, 60*time.Second)
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("marker survived the reinitialize (stat err %v): data directory not re-cloned", err)
	}
	if err := exec1(t, p, "INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	waitRows(t, c, r, "t", 2)
}
