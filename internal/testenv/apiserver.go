package testenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// apiserverArgs are the kube-apiserver 1.36 flags for a loopback-only
// server with no controller-manager.
func (k *Kube) apiserverArgs() []string {
	return []string{
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(k.port),
		"--etcd-servers=" + k.etcd.clientURL,
		"--tls-cert-file=" + k.pki.certFile,
		"--tls-private-key-file=" + k.pki.keyFile,
		"--token-auth-file=" + k.tokenFile,
		"--authorization-mode=RBAC",
		// Issuer plus keys enable the TokenRequest API (CreateToken).
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + k.pki.saVerifyingKey,
		"--service-account-signing-key-file=" + k.pki.saSigningKey,
		"--service-cluster-ip-range=10.96.0.0/24",
		// ServiceAccount admission waits for the "default" ServiceAccount,
		// which only kube-controller-manager creates: Pods would be rejected.
		"--disable-admission-plugins=ServiceAccount",
		"--allow-privileged=true",
		"--profiling=false",
	}
}

// startFirstAPIServer picks the secure port, retrying with another when a
// different process took it between freePort and the bind.
func (k *Kube) startFirstAPIServer(ctx context.Context) error {
	var err error
	for range startAttempts {
		if k.port, err = freePort("127.0.0.1"); err != nil {
			return err
		}
		var proc *process
		proc, err = k.launchAPIServer(ctx)
		if err == nil || proc == nil || !proc.addrInUse() {
			return err
		}
	}
	return err
}

// StartAPIServer starts the apiserver again after StopAPIServer, on the same
// port and etcd, so clients made before the outage reconnect by themselves.
// It returns once /readyz answers 200.
func (k *Kube) StartAPIServer(ctx context.Context) error {
	_, err := k.launchAPIServer(ctx)
	return err
}

// launchAPIServer starts kube-apiserver on k.port and waits for readiness.
// On failure it returns the (stopped) process, for the port-race check.
func (k *Kube) launchAPIServer(ctx context.Context) (*process, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.apiserver != nil {
		return nil, fmt.Errorf("start kube-apiserver: already running")
	}
	began := time.Now()
	proc, err := startProcess(procSpec{
		name:    "kube-apiserver",
		path:    k.bins.KubeAPIServer,
		args:    k.apiserverArgs(),
		logPath: filepath.Join(k.dir, "kube-apiserver.log"),
	})
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, proc, k.readyz); err != nil {
		proc.stop(syscall.SIGTERM, stopGrace)
		return proc, fmt.Errorf("start kube-apiserver: %w", err)
	}
	k.apiserver = proc
	fmt.Fprintf(k.log, "testenv: kube-apiserver on port %d ready in %v\n", k.port, time.Since(began).Round(time.Millisecond))
	return proc, nil
}

// StopAPIServer stops the apiserver (SIGTERM, then SIGKILL after a bound)
// and leaves etcd running, to simulate an API outage. Clients then see
// connection refused. It does nothing if the apiserver is stopped.
func (k *Kube) StopAPIServer() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.apiserver == nil {
		return
	}
	k.apiserver.stop(syscall.SIGTERM, stopGrace)
	k.apiserver = nil
}

// readyz probes /readyz as admin. 200 means every post-start hook ran,
// including RBAC's bootstrap roles, so authorization answers are final.
func (k *Kube) readyz(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.Host()+"/readyz", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+k.adminToken)
	resp, err := k.probe.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return fmt.Errorf("/readyz: %s: %s", resp.Status, body)
	}
	return nil
}

// newProbeClient trusts only caPEM and keeps no idle connections, so a
// probe never reuses a connection to an apiserver that has since stopped.
func newProbeClient(caPEM []byte) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		DisableKeepAlives: true,
	}}
}
