package api

import (
	"net"
	"sync"
)

// limitListener accepts at most max connections at once, and at most
// perHost from one remote address. Accept waits for a free slot: waiting
// connections sit in the kernel's backlog, where they cost nothing, and
// every held slot is freed within the server's read-header, read or idle
// timeout, so a slowloris delays newcomers by at most that long instead
// of exhausting memory or file descriptors. A connection over its
// address's share is closed at once, so one client (a misbehaving pod)
// cannot take all the slots and delay the kubelet's and the load
// balancers' health checks, which come from other addresses.
type limitListener struct {
	net.Listener
	perHost int
	sem     chan struct{}
	done    chan struct{}
	once    sync.Once

	mu    sync.Mutex
	hosts map[string]int
}

func newLimitListener(ln net.Listener, max, perHost int) *limitListener {
	return &limitListener{Listener: ln, perHost: perHost, sem: make(chan struct{}, max), done: make(chan struct{}), hosts: map[string]int{}}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		select {
		case l.sem <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
		c, err := l.Listener.Accept()
		if err != nil {
			<-l.sem
			return nil, err
		}
		host := remoteHost(c)
		if !l.admit(host) {
			_ = c.Close()
			<-l.sem
			continue
		}
		return &limitConn{Conn: c, release: func() { l.leave(host); <-l.sem }}, nil
	}
}

func (l *limitListener) admit(host string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hosts[host] >= l.perHost {
		return false
	}
	l.hosts[host]++
	return true
}

func (l *limitListener) leave(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hosts[host]--; l.hosts[host] <= 0 {
		delete(l.hosts, host)
	}
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

func remoteHost(c net.Conn) string {
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	return host
}

// limitConn gives its slot back once, on the first Close.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
