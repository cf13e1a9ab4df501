// Package apicount counts the requests a Kubernetes client sends, by kind,
// so that benchmarks can report the load an idle cluster puts on the API
// and tests can assert that nothing was written.
package apicount

import (
	"net/http"
	"sync/atomic"
)

// Counter counts requests. The zero value is ready to use.
type Counter struct {
	reads   atomic.Int64
	writes  atomic.Int64
	watches atomic.Int64
}

// Reads are GET requests other than watches (get and list).
func (c *Counter) Reads() int64 { return c.reads.Load() }

// Writes are POST, PUT, PATCH and DELETE requests.
func (c *Counter) Writes() int64 { return c.writes.Load() }

// Watches are watch requests (long-running GETs with watch=true); each is
// one stream, however many events it carries.
func (c *Counter) Watches() int64 { return c.watches.Load() }

// Wrap returns rt counting into c; it fits rest.Config.Wrap.
func (c *Counter) Wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper{c: c, next: rt}
}

type roundTripper struct {
	c    *Counter
	next http.RoundTripper
}

func (r roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	switch {
	case req.Method == http.MethodGet && req.URL.Query().Get("watch") == "true":
		r.c.watches.Add(1)
	case req.Method == http.MethodGet || req.Method == http.MethodHead:
		r.c.reads.Add(1)
	default:
		r.c.writes.Add(1)
	}
	return r.next.RoundTrip(req)
}
