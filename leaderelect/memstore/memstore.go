package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/tenure-pg/tenure/leaderelect"
)

// API is the shared in-memory store. The zero value is not usable; call
// NewAPI.
type API struct {
	// deliver serialises watch delivery so events arrive in version order.
	// It is taken before mu is released and never while mu is wanted.
	deliver sync.Mutex

	mu       sync.Mutex
	version  uint64
	records  map[string]map[leaderelect.Key]leaderelect.Record // by cluster
	watchers []*watcher                                        // in registration order, for deterministic delivery
	down     bool
}

type watcher struct {
	client *Client
	fn     func(leaderelect.Record, bool)
}

// NewAPI returns an empty API.
func NewAPI() *API {
	return &API{records: map[string]map[leaderelect.Key]leaderelect.Record{}}
}

// SetDown starts (true) or ends (false) an outage of the whole API.
func (a *API) SetDown(down bool) {
	a.mu.Lock()
	a.down = down
	a.mu.Unlock()
}

// Client returns a Backend for member of cluster.
func (a *API) Client(cluster, member string) *Client {
	return &Client{api: a, cluster: cluster, member: member}
}

// Client is one member's connection to the API.
type Client struct {
	api     *API
	cluster string
	member  string

	cut       atomic.Bool
	forbidden atomic.Bool
	loseNext  atomic.Int32
	writes    atomic.Int64
	reads     atomic.Int64
}

// Cut partitions this member from the API (true) or heals it (false). On
// heal the member's watches receive every current record again, as after
// a relist.
func (c *Client) Cut(on bool) {
	c.cut.Store(on)
	if !on {
		c.api.relist(c)
	}
}

// Forbid makes every call of this client fail with ErrForbidden.
func (c *Client) Forbid(on bool) { c.forbidden.Store(on) }

// LoseNextWrite makes the next Put land but report ErrUnavailable, as a
// write whose response timed out.
func (c *Client) LoseNextWrite() { c.loseNext.Add(1) }

// Writes and Reads count the requests this client sent.
func (c *Client) Writes() int64 { return c.writes.Load() }
func (c *Client) Reads() int64  { return c.reads.Load() }

func (c *Client) check(op string, key leaderelect.Key) error {
	switch {
	case c.forbidden.Load():
		return fmt.Errorf("memstore: %s %s/%s by %s: %w", op, c.cluster, key.Kind, c.member, leaderelect.ErrForbidden)
	case c.cut.Load():
		return fmt.Errorf("memstore: %s %s/%s by %s: partitioned: %w", op, c.cluster, key.Kind, c.member, leaderelect.ErrUnavailable)
	}
	c.api.mu.Lock()
	down := c.api.down
	c.api.mu.Unlock()
	if down {
		return fmt.Errorf("memstore: %s %s/%s: api down: %w", op, c.cluster, key.Kind, leaderelect.ErrUnavailable)
	}
	return nil
}

// Get implements leaderelect.Backend.
func (c *Client) Get(_ context.Context, key leaderelect.Key) (leaderelect.Record, error) {
	c.reads.Add(1)
	if err := c.check("get", key); err != nil {
		return leaderelect.Record{}, err
	}
	c.api.mu.Lock()
	defer c.api.mu.Unlock()
	rec, ok := c.api.records[c.cluster][key]
	if !ok {
		return leaderelect.Record{}, fmt.Errorf("memstore: get %s/%s %s: %w", c.cluster, key.Kind, key.Name, leaderelect.ErrNotFound)
	}
	return rec, nil
}

// Put implements leaderelect.Backend.
func (c *Client) Put(_ context.Context, rec leaderelect.Record) (leaderelect.Record, error) {
	c.writes.Add(1)
	if err := c.check("put", rec.Key); err != nil {
		return leaderelect.Record{}, err
	}
	a := c.api
	a.mu.Lock()
	recs := a.records[c.cluster]
	if recs == nil {
		recs = map[leaderelect.Key]leaderelect.Record{}
		a.records[c.cluster] = recs
	}
	cur, exists := recs[rec.Key]
	switch {
	case rec.Version == "" && exists:
		a.mu.Unlock()
		return leaderelect.Record{}, fmt.Errorf("memstore: create %s/%s %s: exists: %w", c.cluster, rec.Kind, rec.Name, leaderelect.ErrConflict)
	case rec.Version != "" && !exists:
		a.mu.Unlock()
		return leaderelect.Record{}, fmt.Errorf("memstore: update %s/%s %s: %w", c.cluster, rec.Kind, rec.Name, leaderelect.ErrNotFound)
	case rec.Version != "" && cur.Version != rec.Version:
		a.mu.Unlock()
		return leaderelect.Record{}, fmt.Errorf("memstore: update %s/%s %s: version %s is not %s: %w", c.cluster, rec.Kind, rec.Name, rec.Version, cur.Version, leaderelect.ErrConflict)
	}
	a.version++
	rec.Version = strconv.FormatUint(a.version, 10)
	recs[rec.Key] = rec
	targets := a.watchersOf(c.cluster)
	a.deliver.Lock()
	a.mu.Unlock()
	for _, w := range targets {
		if !w.client.cut.Load() {
			w.fn(rec, false)
		}
	}
	a.deliver.Unlock()
	if c.loseNext.Load() > 0 && c.loseNext.Add(-1) >= 0 {
		return leaderelect.Record{}, fmt.Errorf("memstore: put %s/%s %s: response lost: %w", c.cluster, rec.Kind, rec.Name, leaderelect.ErrUnavailable)
	}
	return rec, nil
}

// Watch implements leaderelect.Backend.
func (c *Client) Watch(ctx context.Context, fn func(leaderelect.Record, bool)) error {
	c.reads.Add(1)
	if err := c.check("watch", leaderelect.Key{}); err != nil {
		return err
	}
	w := &watcher{client: c, fn: fn}
	a := c.api
	a.mu.Lock()
	a.watchers = append(a.watchers, w)
	a.mu.Unlock()
	a.relist(c)
	go func() {
		<-ctx.Done()
		a.mu.Lock()
		a.watchers = slices.DeleteFunc(a.watchers, func(x *watcher) bool { return x == w })
		a.mu.Unlock()
	}()
	return nil
}

// relist delivers every current record of c's cluster to c's watchers.
func (a *API) relist(c *Client) {
	a.mu.Lock()
	recs := make([]leaderelect.Record, 0, len(a.records[c.cluster]))
	for _, r := range a.records[c.cluster] {
		recs = append(recs, r)
	}
	slices.SortFunc(recs, func(x, y leaderelect.Record) int {
		return cmp.Compare(version(x), version(y))
	})
	var mine []*watcher
	for _, w := range a.watchers {
		if w.client == c {
			mine = append(mine, w)
		}
	}
	a.deliver.Lock()
	a.mu.Unlock()
	for _, w := range mine {
		for _, r := range recs {
			w.fn(r, false)
		}
	}
	a.deliver.Unlock()
}

func (a *API) watchersOf(cluster string) []*watcher {
	var out []*watcher
	for _, w := range a.watchers {
		if w.client.cluster == cluster {
			out = append(out, w)
		}
	}
	return out
}

func version(r leaderelect.Record) uint64 {
	v, _ := strconv.ParseUint(r.Version, 10, 64)
	return v
}
