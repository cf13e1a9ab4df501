package testenv

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// etcd is a single-member etcd on 127.0.0.1 that keeps its data in a temp
// dir. It lives as long as its Kube; only the apiserver restarts.
type etcd struct {
	proc      *process
	clientURL string
}

func startEtcd(ctx context.Context, bin, dir string) (*etcd, error) {
	var lastErr error
	for range startAttempts {
		e, err := startEtcdOnce(ctx, bin, dir)
		if err == nil {
			return e, nil
		}
		lastErr = err
		if e == nil || !e.proc.addrInUse() {
			break
		}
	}
	return nil, fmt.Errorf("start etcd: %w", lastErr)
}

// startEtcdOnce returns the etcd it started even on error, so the caller can
// tell a lost port race from a real failure.
func startEtcdOnce(ctx context.Context, bin, dir string) (*etcd, error) {
	clientPort, err := freePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	peerPort, err := freePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	// A previous attempt that lost its port left a member bootstrapped with
	// other URLs; etcd refuses to start on it with new ones.
	dataDir := filepath.Join(dir, "etcd-data")
	if err := os.RemoveAll(dataDir); err != nil {
		return nil, fmt.Errorf("clear etcd data dir: %w", err)
	}
	clientURL := "http://" + hostPort("127.0.0.1", clientPort)
	peerURL := "http://" + hostPort("127.0.0.1", peerPort)
	proc, err := startProcess(procSpec{
		name: "etcd",
		path: bin,
		args: []string{
			"--name=testenv",
			"--data-dir=" + dataDir,
			"--listen-client-urls=" + clientURL,
			"--advertise-client-urls=" + clientURL,
			"--listen-peer-urls=" + peerURL,
			"--initial-advertise-peer-urls=" + peerURL,
			"--initial-cluster=testenv=" + peerURL,
			"--initial-cluster-state=new",
			// Test data is disposable: skipping fsync takes etcd writes from
			// milliseconds to microseconds and keeps many parallel
			// apiservers from queueing on one disk.
			"--unsafe-no-fsync",
			"--log-level=warn",
		},
		logPath: filepath.Join(dir, "etcd.log"),
	})
	if err != nil {
		return nil, err
	}
	e := &etcd{proc: proc, clientURL: clientURL}
	if err := waitReady(ctx, proc, e.healthy); err != nil {
		e.stop()
		return e, err
	}
	return e, nil
}

// healthy probes /health, which etcd answers with {"health":"true"} once the
// member has a leader and serves reads.
func (e *etcd) healthy(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.clientURL+"/health", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"true"`) {
		return fmt.Errorf("etcd /health: %s %s", resp.Status, body)
	}
	return nil
}

func (e *etcd) stop() { e.proc.stop(syscall.SIGTERM, stopGrace) }
