package testenv

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
)

var loopback struct {
	mu   sync.Mutex
	next uint32 // host part within 127.0.0.0/8; 1 is the apiserver's
}

// NewLoopbackAddr returns a loopback address no other caller in this process
// has received: 127.0.0.2, 127.0.0.3, ... 127.0.1.1, ... Each member of a
// test cluster gets its own, so it looks like a separate host and a proxy or
// postgres bound to it can be cut without touching the others. Other
// processes may hand out the same addresses; ports are random, so they do not
// collide.
func NewLoopbackAddr() string {
	loopback.mu.Lock()
	defer loopback.mu.Unlock()
	for {
		if loopback.next < 2 {
			loopback.next = 2
		}
		n := loopback.next
		loopback.next++
		if n&0xff == 0 || n&0xff == 0xff {
			continue // .0 and .255 look like network and broadcast addresses
		}
		return fmt.Sprintf("127.%d.%d.%d", n>>16&0xff, n>>8&0xff, n&0xff)
	}
}

// freePort returns a TCP port that was free on host a moment ago. Another
// process can take it before the child binds it; starters retry with a new
// port when a child fails to bind (see startAttempts).
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("find free port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// hostPort joins host and port.
func hostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// startAttempts bounds retries of a start that lost its free port to
// another process between freePort and the child's bind.
const startAttempts = 3

// FreePort is a TCP port free on host a moment ago, for a server a test
// starts itself (see freePort for the race this leaves).
func FreePort(t testing.TB, host string) int {
	t.Helper()
	port, err := freePort(host)
	if err != nil {
		t.Fatal(err)
	}
	return port
}
