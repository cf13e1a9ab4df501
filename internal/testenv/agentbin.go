package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// agentBin is tenure-agent built for this test binary, once.
var agentBin struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// AgentBinary builds tenure-agent once per test binary into a directory
// the postgres user can read and execute from: postgres runs it as
// archive_command and restore_command, and e2e tests run it as members.
// Main removes it after the tests; a package using it must call Main from
// its TestMain.
func AgentBinary(t testing.TB) string {
	t.Helper()
	agentBin.once.Do(func() {
		agentBin.path, agentBin.err = buildAgent()
	})
	if agentBin.err != nil {
		t.Fatal(agentBin.err)
	}
	return agentBin.path
}

func buildAgent() (string, error) {
	dir, err := os.MkdirTemp("", "tenure-agent-bin-")
	if err != nil {
		return "", fmt.Errorf("build tenure-agent: %w", err)
	}
	agentBin.dir = dir
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", fmt.Errorf("build tenure-agent: %w", err)
	}
	bin := filepath.Join(dir, "tenure-agent")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/tenure-pg/tenure/cmd/tenure-agent").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build tenure-agent: %w\n%s", err, out)
	}
	return bin, nil
}
