package walsvc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/tenure-pg/tenure/walarchive/walname"
)

// prefetcher serves restore_command. After each segment it downloads the
// next Prefetch segments of the same timeline into a spool in pg_wal, so
// replay does not wait one round trip per segment; a spooled segment is
// handed over with a rename.
type prefetcher struct {
	cfg   Config
	spool string
	f     Fetcher
	log   hclog.Logger
	m     *metrics

	bg   context.Context
	sem  chan struct{} // bounds downloads in flight
	work sync.WaitGroup

	mu      sync.Mutex
	flights map[string]*flight // downloads into the spool, by name
	gen     uint64             // bumped by clear: older downloads are stale
	idle    *time.Timer
	// asked is the newest segment postgres has requested (zero before the
	// first). Replay only moves forward, so a prefetch of it or of an
	// older one would download what was already handed over.
	asked walname.Segment
}

// flight is one download into the spool; done closes when it ends.
type flight struct {
	done chan struct{}
	gen  uint64
}

func newPrefetcher(cfg Config, spool string, f Fetcher, log hclog.Logger, m *metrics) *prefetcher {
	return &prefetcher{cfg: cfg, spool: spool, f: f, log: log, m: m,
		sem: make(chan struct{}, cfg.Concurrency), flights: map[string]*flight{}}
}

// start empties the spool (whatever is there is from an earlier
// recovery, or another data directory) and binds downloads to ctx.
func (p *prefetcher) start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bg = ctx
	p.gen++
	p.asked = walname.Segment{}
	if err := os.RemoveAll(p.spool); err != nil {
		return fmt.Errorf("empty prefetch spool: %w", err)
	}
	return nil
}

// wait returns once no download runs, and empties the spool: a stopped
// server serves nothing from it. Call after the start context ends.
func (p *prefetcher) wait() {
	p.work.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idle != nil {
		p.idle.Stop()
		p.idle = nil
	}
	p.gen++
	if err := os.RemoveAll(p.spool); err != nil {
		p.log.Warn("cannot remove the prefetch spool", "path", p.spool, "error", err)
	}
}

// request restores name (parsed as f) to dest. Only complete segments are
// spooled and prefetched: history files and .partial segments are asked
// for speculatively by postgres itself (every new timeline is probed), so
// guessing more of them would only add requests.
func (p *prefetcher) request(ctx context.Context, name string, f walname.File, dest string) error {
	if f.Kind != walname.KindSegment || p.cfg.Prefetch == 0 {
		return p.direct(ctx, name, dest)
	}
	p.touch()
	p.mu.Lock()
	if f.Segment.Timeline != p.asked.Timeline || f.Segment.No > p.asked.No {
		p.asked = f.Segment
	}
	p.mu.Unlock()
	hit, err := p.take(ctx, name, dest)
	if err != nil {
		return err
	}
	if hit {
		p.m.prefetchHits.Inc()
	} else {
		p.m.prefetchMisses.Inc()
		if err := p.direct(ctx, name, dest); err != nil {
			return err
		}
	}
	p.schedule(f.Segment)
	return nil
}

func (p *prefetcher) direct(ctx context.Context, name, dest string) error {
	if err := p.f.Fetch(ctx, name, dest); err != nil {
		return fmt.Errorf("fetch %s: %w", name, err)
	}
	return nil
}

// take moves a spooled copy of name to dest, waiting for a download of it
// that is under way. false means there is none.
func (p *prefetcher) take(ctx context.Context, name, dest string) (bool, error) {
	p.mu.Lock()
	fl := p.flights[name]
	p.mu.Unlock()
	if fl != nil {
		select {
		case <-fl.done:
		case <-ctx.Done():
			return false, fmt.Errorf("fetch %s: %w", name, ctx.Err())
		}
	}
	err := os.Rename(filepath.Join(p.spool, name), dest)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		p.log.Warn("cannot hand over a prefetched segment; fetching it again", "name", name, "error", err)
		_ = os.Remove(filepath.Join(p.spool, name))
	}
	return false, nil
}

// schedule evicts spooled segments outside the window after seg and
// starts downloading the window's missing ones, in order, stopping at the
// first one the archive does not have (its end: later ones are absent
// too, and asking costs a round trip each).
func (p *prefetcher) schedule(seg walname.Segment) {
	p.evict(seg)
	p.work.Go(func() {
		var gap atomic.Bool
		next := seg
		for range p.cfg.Prefetch {
			next = next.Next()
			if gap.Load() || p.bg.Err() != nil {
				return
			}
			name := next.Name(p.cfg.SegmentSize)
			fl := p.claim(name, next)
			if fl == nil {
				continue
			}
			select {
			case p.sem <- struct{}{}:
			case <-p.bg.Done():
				p.land(name, fl, p.bg.Err())
				return
			}
			if gap.Load() {
				<-p.sem
				p.land(name, fl, errSkipped)
				return
			}
			p.work.Go(func() {
				defer func() { <-p.sem }()
				if err := p.download(name, fl); isNotArchived(err) {
					gap.Store(true)
				}
			})
		}
	})
}

// claim registers a download of seg (named name) unless one runs, the
// spool has it, or postgres already asked for it or a later segment: a
// window scheduled a while ago may run after replay moved past it.
func (p *prefetcher) claim(name string, seg walname.Segment) *flight {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.flights[name] != nil {
		return nil
	}
	if seg.Timeline == p.asked.Timeline && seg.No <= p.asked.No {
		return nil
	}
	if _, err := os.Lstat(filepath.Join(p.spool, name)); err == nil {
		return nil
	}
	fl := &flight{done: make(chan struct{}), gen: p.gen}
	p.flights[name] = fl
	return fl
}

// download fetches name into the spool. The Fetcher verifies what it
// writes; the rename makes only complete, verified files visible.
func (p *prefetcher) download(name string, fl *flight) error {
	if err := os.MkdirAll(p.spool, 0o700); err != nil {
		p.land(name, fl, err)
		return err
	}
	tmp := filepath.Join(p.spool, name+".tmp")
	ctx, cancel := context.WithTimeout(p.bg, p.cfg.Timeout)
	err := p.f.Fetch(ctx, name, tmp)
	cancel()
	if err == nil {
		err = os.Rename(tmp, filepath.Join(p.spool, name))
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	p.land(name, fl, err)
	return err
}

// errSkipped ends a flight that was claimed but not started because an
// earlier segment of its window is missing from the archive.
var errSkipped = errors.New("prefetch skipped past the end of the archive")

// land ends a flight and counts its outcome. A download that ended after
// clear is removed: it belongs to a recovery that is over.
func (p *prefetcher) land(name string, fl *flight, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if fl.gen != p.gen && err == nil {
		_ = os.Remove(filepath.Join(p.spool, name))
	}
	delete(p.flights, name)
	close(fl.done)
	switch {
	case err == nil:
		p.m.prefetches.WithLabelValues("ok").Inc()
	case isNotArchived(err):
		p.m.prefetches.WithLabelValues("absent").Inc()
	case errors.Is(err, context.Canceled), errors.Is(err, errSkipped):
	default:
		p.m.prefetches.WithLabelValues("error").Inc()
		p.log.Debug("prefetch failed", "name", name, "error", err)
	}
}

// evict removes spooled segments that are not among the Prefetch after
// seg, whatever their timeline: replay has passed them, or they are too
// far ahead to be kept. This bounds the spool to Prefetch segments plus
// the downloads in flight. Only complete segments (files named as one)
// are touched: other names are downloads in flight (ours end in .tmp,
// the Fetcher's own temporary files are dot-files), and start and stop
// empty the whole spool.
func (p *prefetcher) evict(seg walname.Segment) {
	p.removeSpooled(func(s walname.Segment) bool {
		return s.No <= seg.No || s.No > seg.No+uint64(p.cfg.Prefetch)
	})
}

// removeSpooled removes the complete spooled segments drop selects.
func (p *prefetcher) removeSpooled(drop func(walname.Segment) bool) {
	entries, err := os.ReadDir(p.spool)
	if err != nil {
		return // no spool yet
	}
	for _, e := range entries {
		s, err := walname.ParseSegment(e.Name(), p.cfg.SegmentSize)
		if err == nil && drop(s) {
			_ = os.Remove(filepath.Join(p.spool, e.Name()))
		}
	}
}

// touch restarts the idle timer that clears the spool.
func (p *prefetcher) touch() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idle == nil {
		p.idle = time.AfterFunc(p.cfg.SpoolIdle, p.clear)
		return
	}
	p.idle.Reset(p.cfg.SpoolIdle)
}

// clear empties the spool; downloads still in flight land nothing.
func (p *prefetcher) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen++
	p.asked = walname.Segment{} // a later recovery may start anywhere
	p.removeSpooled(func(walname.Segment) bool { return true })
}
