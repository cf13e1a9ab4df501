package api

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// serve runs a Server built from cfg on a loopback port until the test
// ends and returns its address.
func serve(t *testing.T, cfg Config, unsafe map[string]http.Handler) string {
	t.Helper()
	cfg.Unsafe = unsafe
	addr, stop := startServer(t, cfg, hclog.NewNullLogger())
	t.Cleanup(stop)
	return addr
}

// startServer runs a Server built from cfg on a loopback port; stop ends
// it and waits for Serve to return.
func startServer(t *testing.T, cfg Config, log hclog.Logger) (addr string, stop func()) {
	t.Helper()
	srv, err := New(cfg, &fakeSource{snap: primarySnap()}, &fakeCommands{}, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	return ln.Addr().String(), func() { once.Do(func() { cancel(); <-done }) }
}

func tokenConfig() Config {
	cfg := DefaultConfig()
	cfg.Token = testToken
	cfg.CommandTimeout, cfg.WriteTimeout = 5*time.Second, 10*time.Second
	return cfg
}

// TestOneAuthorizer: every unsafe endpoint, the agent's /failsafe
// included (issue #12 finding 6: it compared with != and a fixed-case
// "Bearer"), answers 401 without the token and accepts it with the
// scheme in any case (RFC 7235).
func TestOneAuthorizer(t *testing.T) {
	var failsafeCalls int
	var mu sync.Mutex
	addr := serve(t, tokenConfig(), map[string]http.Handler{"POST /failsafe": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		failsafeCalls++
		mu.Unlock()
	})})
	base := "http://" + addr
	unsafe := []struct{ method, path, body string }{
		{"POST", "/switchover", `{"leader":"m1"}`}, {"POST", "/failover", `{"candidate":"m2"}`},
		{"DELETE", "/switchover", ""}, {"POST", "/restart", ""}, {"POST", "/reload", ""},
		{"POST", "/reinitialize", ""}, {"PATCH", "/config", `{"parameters":{"archive_command":"touch x-%f"}}`},
		{"PUT", "/config", `{}`}, {"POST", "/failsafe", `{"leader":"m1","epoch":1}`},
	}
	for _, u := range unsafe {
		for _, auth := range []string{"", "Bearer wrong", "Basic " + testToken, "Bearer " + testToken + "x", testToken} {
			code := do(t, u.method, base+u.path, auth, u.body)
			if code != http.StatusUnauthorized {
				t.Errorf("%s %s with Authorization %q = %d, want 401", u.method, u.path, auth, code)
			}
		}
	}
	if failsafeCalls != 0 {
		t.Fatalf("/failsafe handler ran %d times for unauthorized requests", failsafeCalls)
	}
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		if code := do(t, "POST", base+"/failsafe", scheme+" "+testToken, `{}`); code != http.StatusOK {
			t.Errorf("/failsafe with scheme %q = %d, want 200", scheme, code)
		}
		if code := do(t, "POST", base+"/reload", scheme+" "+testToken, ""); code != http.StatusAccepted {
			t.Errorf("/reload with scheme %q = %d, want 202", scheme, code)
		}
	}
	if code := do(t, "GET", base+"/health", "", ""); code != http.StatusOK {
		t.Errorf("GET /health without a token = %d, want 200 (reads stay open)", code)
	}
}

func do(t *testing.T, method, url, auth, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// slowConns opens n connections to addr from source address from, half
// dribbling their headers and half sending headers and then a body that
// never ends, and returns them.
func slowConns(t *testing.T, addr, from string, n int) []net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	var conns []net.Conn
	for i := range n {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d from %s: %v", i, from, err)
		}
		t.Cleanup(func() { c.Close() })
		conns = append(conns, c)
		if i%2 == 0 {
			fmt.Fprintf(c, "GET /health HTTP/1.1\r\nHost: x\r\n") // headers never end
		} else {
			fmt.Fprintf(c, "PATCH /config HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{") // body never ends
		}
	}
	return conns
}

// healthLatency asks /health 20 times from source address from and
// returns the median and the slowest answer.
func healthLatency(t *testing.T, addr, from string) (median, slowest time.Duration) {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true, DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext}
	client := &http.Client{Timeout: 10 * time.Second, Transport: tr}
	var lat []time.Duration
	for range 20 {
		began := time.Now()
		resp, err := client.Get("http://" + addr + "/health")
		if err != nil {
			t.Fatalf("/health from %s: %v", from, err)
		}
		resp.Body.Close()
		lat = append(lat, time.Since(began))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/health = %d", resp.StatusCode)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat[len(lat)/2], lat[len(lat)-1]
}

// held counts the connections of conns the server has not closed by
// the time until: it waits until then, then tries each (a closed one
// reads EOF or a reset at once, an open one times out).
func held(conns []net.Conn, until time.Time) int {
	time.Sleep(time.Until(until))
	n := 0
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		_, err := io.Copy(io.Discard, c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			n++
		}
	}
	return n
}

// TestSlowlorisKeepsHealthFast is issue #12 finding 4: 300 connections
// from 10 addresses that dribble their headers or their body must not
// slow /health down, and the server cuts every one of them once its read
// timeouts pass (150 slow-body connections stayed open 60 s before).
func TestSlowlorisKeepsHealthFast(t *testing.T) {
	cfg := tokenConfig()
	cfg.ReadHeaderTimeout, cfg.ReadTimeout, cfg.IdleTimeout = 2*time.Second, 3*time.Second, 2*time.Second
	addr := serve(t, cfg, nil)
	var conns []net.Conn
	for i := range 10 {
		conns = append(conns, slowConns(t, addr, fmt.Sprintf("127.0.1.%d", i+1), 30)...)
	}
	median, slowest := healthLatency(t, addr, "127.0.0.1")
	t.Logf("/health under %d slow connections: median %v, slowest %v", len(conns), median, slowest)
	if slowest > 500*time.Millisecond {
		t.Errorf("/health took %v under %d slow connections, want < 500ms", slowest, len(conns))
	}
	if n := held(conns, time.Now().Add(cfg.ReadTimeout+3*time.Second)); n > 0 {
		t.Errorf("%d slow connections still open %v after the read timeout", n, cfg.ReadTimeout)
	}
}

// TestOneClientCannotTakeEverySlot: 600 slow connections from one
// address, more than MaxConns: all but MaxConnsPerHost are closed at
// once, and /health from elsewhere stays fast.
func TestOneClientCannotTakeEverySlot(t *testing.T) {
	cfg := tokenConfig()
	addr := serve(t, cfg, nil)
	conns := slowConns(t, addr, "127.0.2.1", 600)
	median, slowest := healthLatency(t, addr, "127.0.0.1")
	t.Logf("/health with %d slow connections from one address: median %v, slowest %v", len(conns), median, slowest)
	if slowest > 500*time.Millisecond {
		t.Errorf("/health took %v, want < 500ms", slowest)
	}
	if n := held(conns, time.Now().Add(200*time.Millisecond)); n != cfg.MaxConnsPerHost {
		t.Errorf("%d connections from one address held, want %d", n, cfg.MaxConnsPerHost)
	}
}

// TestIdleKeepAliveCut: keep-alive connections idle past IdleTimeout are
// closed by the server (finding 4: 150 stayed open for 60 s).
func TestIdleKeepAliveCut(t *testing.T) {
	cfg := tokenConfig()
	cfg.IdleTimeout = time.Second
	addr := serve(t, cfg, nil)
	var conns []net.Conn
	for range 150 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /liveness HTTP/1.1\r\nHost: x\r\n\r\n")
		conns = append(conns, c)
	}
	began := time.Now()
	for i, c := range conns {
		_ = c.SetReadDeadline(began.Add(5 * time.Second))
		_, err := io.Copy(io.Discard, c) // the response, then EOF when cut
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("idle keep-alive connection %d still open after 5 s (idle timeout %v)", i, cfg.IdleTimeout)
		}
	}
	t.Logf("150 idle keep-alive connections cut within %v", time.Since(began).Round(time.Millisecond))
}

// TestConnectionCap: beyond MaxConns, a connection waits for a slot
// instead of being served; one freed, it is served.
func TestConnectionCap(t *testing.T) {
	cfg := tokenConfig()
	cfg.MaxConns = 2
	addr := serve(t, cfg, nil)
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET /liveness HTTP/1.1\r\nHost: x\r\n\r\n")
		buf := make([]byte, 12)
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	client := &http.Client{Timeout: 300 * time.Millisecond}
	if _, err := client.Get("http://" + addr + "/liveness"); err == nil {
		t.Fatal("a third connection was served with the cap at 2")
	}
	held[0].Close()
	client.Timeout = 3 * time.Second
	resp, err := client.Get("http://" + addr + "/liveness")
	if err != nil {
		t.Fatalf("no slot after one connection closed: %v", err)
	}
	resp.Body.Close()
	held[1].Close()
}

// TestTLS serves HTTPS with the configured key pair.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	cfg := tokenConfig()
	cfg.CertFile, cfg.KeyFile = certFile, keyFile
	addr := serve(t, cfg, nil)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get("https://" + addr + "/health")
	if err != nil {
		t.Fatalf("GET over TLS: %v", err)
	}
	resp.Body.Close()
	if resp, err := http.Get("http://" + addr + "/health"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP on the TLS port = %d, want 400", resp.StatusCode)
		}
	}
	cfg.KeyFile = filepath.Join(dir, "missing.pem")
	if _, err := New(cfg, &fakeSource{}, &fakeCommands{}, nil); err == nil {
		t.Error("New accepted a missing key file")
	}
}

func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tenure-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
