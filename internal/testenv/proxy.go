package testenv

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// proxyState is what a Proxy does with traffic.
type proxyState int

const (
	proxyOpen    proxyState = iota // forward both ways
	proxyCut                       // accept and read, forward nothing: a blackhole
	proxyRefused                   // no listener: connection refused
	proxyClosed
)

// Proxy forwards TCP from its own loopback address to a target, and can
// partition that path. One proxy per member between the member and the
// apiserver cuts that member off while the others still reach it.
type Proxy struct {
	target string
	addr   string // host:port; kept across Refuse and Heal
	wg     sync.WaitGroup

	mu      sync.Mutex
	state   proxyState
	changed chan struct{} // closed and replaced on every state change
	ln      net.Listener  // nil unless open or cut
	conns   map[net.Conn]struct{}
}

// NewProxy listens on a fresh loopback address (NewLoopbackAddr) and a
// random port and forwards to target (host:port). The caller must Close it.
func NewProxy(target string) (*Proxy, error) { return NewProxyOn(NewLoopbackAddr(), target) }

// NewProxyOn is NewProxy listening on host, for clients that cannot reach
// loopback: containers reach the apiserver through a proxy on their Docker
// network's gateway address (package chaos).
func NewProxyOn(host, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("start proxy to %s: %w", target, err)
	}
	p := &Proxy{target: target, addr: ln.Addr().String(), ln: ln,
		changed: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve(ln)
	return p, nil
}

// Proxy starts a proxy to the apiserver that is closed when t ends. Use
// ConfigVia to send a client through it.
func (k *Kube) Proxy(t testing.TB) *Proxy {
	t.Helper()
	p, err := NewProxy(k.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// ConfigVia returns a copy of base that reaches the apiserver through p. It
// verifies the serving certificate as "localhost", one of its SANs, since
// the proxy's 127.0.0.x is not.
func ConfigVia(p *Proxy, base *rest.Config) *rest.Config {
	c := rest.CopyConfig(base)
	c.Host = "https://" + p.Addr()
	c.TLSClientConfig.ServerName = "localhost"
	return c
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

// Cut blackholes the path like a network partition: open connections stay
// up but their bytes are held, not delivered, and new connections are
// accepted but never forwarded. Clients see timeouts, not resets, which is
// the hard case for a leader deciding whether it still holds its lease.
// Held bytes flow again after Heal, as TCP retransmission would deliver them.
func (p *Proxy) Cut() error { return p.set(proxyCut) }

// Refuse closes every connection and stops listening, so clients see
// connection refused, like a host that is up with nothing on the port.
func (p *Proxy) Refuse() error { return p.set(proxyRefused) }

// Heal forwards again, listening again on the same address after Refuse.
func (p *Proxy) Heal() error { return p.set(proxyOpen) }

// Close stops the proxy and closes every connection through it.
func (p *Proxy) Close() {
	_ = p.set(proxyClosed)
	p.wg.Wait()
}

func (p *Proxy) set(s proxyState) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == proxyClosed {
		return nil
	}
	listening := s == proxyOpen || s == proxyCut
	if !listening {
		if p.ln != nil {
			_ = p.ln.Close()
			p.ln = nil
		}
		for c := range p.conns {
			_ = c.Close()
		}
	}
	if listening && p.ln == nil {
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			return fmt.Errorf("proxy %s listen again: %w", p.addr, err)
		}
		p.ln = ln
		p.wg.Add(1)
		go p.serve(ln)
	}
	p.state = s
	close(p.changed)
	p.changed = make(chan struct{})
	return nil
}

func (p *Proxy) serve(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed by set
		}
		if !p.track(c) {
			_ = c.Close()
			continue
		}
		p.wg.Add(1)
		go p.handle(c)
	}
}

// track registers c so Refuse and Close can close it; false when the proxy
// no longer accepts.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == proxyRefused || p.state == proxyClosed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	_ = c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// dialTimeout bounds connecting to the target on loopback, where a dial
// either succeeds or is refused at once.
const dialTimeout = 5 * time.Second

func (p *Proxy) handle(client net.Conn) {
	defer p.wg.Done()
	defer p.untrack(client)
	if !p.waitOpen() { // a connection made during a cut waits here
		return
	}
	upstream, err := net.DialTimeout("tcp", p.target, dialTimeout)
	if err != nil {
		return // the client sees its connection closed, as from a dead target
	}
	if !p.track(upstream) {
		_ = upstream.Close()
		return
	}
	defer p.untrack(upstream)
	done := make(chan struct{}, 2)
	go func() { p.pipe(upstream, client); done <- struct{}{} }()
	go func() { p.pipe(client, upstream); done <- struct{}{} }()
	<-done
	// One side ended: close both so the other direction ends too.
	_ = client.Close()
	_ = upstream.Close()
	<-done
}

// pipe copies src to dst, holding each chunk while the proxy is cut.
func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.waitOpen() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// waitOpen blocks while the proxy is cut and reports whether traffic may
// flow (false once it refuses or is closed).
func (p *Proxy) waitOpen() bool {
	for {
		p.mu.Lock()
		state, changed := p.state, p.changed
		p.mu.Unlock()
		switch state {
		case proxyOpen:
			return true
		case proxyCut:
			<-changed
		default:
			return false
		}
	}
}
