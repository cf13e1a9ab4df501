package testenv

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// installHint is what a developer runs to get etcd and kube-apiserver.
const installHint = "run `make testbins` (cold build ~10 min, cached afterwards)"

// Binaries are the paths of the control-plane executables.
type Binaries struct {
	Etcd          string
	KubeAPIServer string
}

var (
	binariesOnce sync.Once
	binaries     Binaries
	binariesErr  error
)

// LookupBinaries returns the etcd and kube-apiserver paths: TENURE_ETCD and
// TENURE_KUBE_APISERVER when set, otherwise the versioned cache paths that
// tools/install.sh --paths prints. It never builds: a cold build takes
// minutes and belongs to an explicit step, not to the first test that runs.
// A binary that does not exist yields a *MissingError.
func LookupBinaries() (Binaries, error) {
	binariesOnce.Do(func() { binaries, binariesErr = lookupBinaries() })
	return binaries, binariesErr
}

func lookupBinaries() (Binaries, error) {
	b := Binaries{Etcd: os.Getenv("TENURE_ETCD"), KubeAPIServer: os.Getenv("TENURE_KUBE_APISERVER")}
	if b.Etcd == "" || b.KubeAPIServer == "" {
		paths, err := installPaths()
		if err != nil {
			return b, err
		}
		if b.Etcd == "" {
			b.Etcd = paths["etcd"]
		}
		if b.KubeAPIServer == "" {
			b.KubeAPIServer = paths["kube-apiserver"]
		}
	}
	for name, path := range map[string]string{"etcd": b.Etcd, "kube-apiserver": b.KubeAPIServer} {
		if path == "" {
			return b, fmt.Errorf("locate %s: install.sh --paths printed no path for it", name)
		}
		if _, err := os.Stat(path); err != nil {
			return b, missingf(installHint, "%s not built (no %s)", name, path)
		}
	}
	return b, nil
}

// installPaths runs install.sh --paths from the repository root and parses
// its name=path lines.
func installPaths() (map[string]string, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	script := filepath.Join(root, "internal", "testenv", "tools", "install.sh")
	cmd := exec.CommandContext(ctx, "bash", script, "--paths")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("run %s --paths: %w: %s", script, err, stderr.String())
	}
	paths := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if name, path, ok := strings.Cut(sc.Text(), "="); ok {
			paths[name] = path
		}
	}
	return paths, nil
}

// repoRoot walks up from the working directory (a test's is its package
// directory) to the directory that holds go.work.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", missingf("run from inside the repository or set TENURE_ETCD and TENURE_KUBE_APISERVER",
				"repository root (go.work) not found above the working directory")
		}
		dir = parent
	}
}
