package v1_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenure-pg/tenure/internal/testenv"
)

// TestGeneratedUpToDate re-runs controller-gen (pinned in
// operator/tools/go.mod) into a temp dir and compares with the checked-in
// CRD and deepcopy code: a type changed without make generate fails here.
func TestGeneratedUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs controller-gen")
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	for _, args := range [][]string{
		{"crd", "paths=./operator/api/v1/...", "output:crd:dir=" + tmp},
		{"object", "paths=./operator/api/v1/...", "output:object:dir=" + tmp},
	} {
		cmd := exec.CommandContext(t.Context(), "bash", append([]string{"operator/tools/controller-gen.sh"}, args...)...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			if _, lerr := exec.LookPath("go"); lerr != nil {
				testenv.Missing(t, "go", "controller-gen is built with the go command")
			}
			t.Fatalf("controller-gen %v: %v\n%s", args, err, out)
		}
	}
	for gen, checkedIn := range map[string]string{
		"tenure.dev_postgresclusters.yaml": filepath.Join(root, "deploy", "crd", "tenure.dev_postgresclusters.yaml"),
		"zz_generated.deepcopy.go":         filepath.Join(root, "operator", "api", "v1", "zz_generated.deepcopy.go"),
	} {
		want, err := os.ReadFile(filepath.Join(tmp, gen))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(checkedIn)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, got) {
			t.Errorf("%s is stale, run make generate (-generated +checked in):\n%s", checkedIn, cmp.Diff(string(want), string(got)))
		}
	}
	entries, err := os.ReadDir(filepath.Join(root, "deploy", "crd"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("deploy/crd holds %d files, want only the generated CRD", len(entries))
	}
}
