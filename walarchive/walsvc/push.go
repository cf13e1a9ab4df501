package walsvc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/tenure-pg/tenure/walarchive/walname"
)

// uploader archives the files postgres marks ready, ahead of postgres
// asking: archive_command runs one file at a time, so without look-ahead
// a backlog drains at one round trip per segment.
type uploader struct {
	cfg       Config
	pgwal     string
	statusDir string
	p         Pusher
	log       hclog.Logger
	m         *metrics

	scanMu sync.Mutex // one archive_status scan at a time
	bg     context.Context
	work   sync.WaitGroup

	mu      sync.Mutex
	files   map[string]*upload // by name: queued, running, or uploaded and still .ready
	pending []*upload          // queued, in upload order
	running int
	failing bool // the last upload failed: upload only what is asked for
}

// upload is one file's archiving. done is closed when it ends; err is
// set before.
type upload struct {
	name    string
	history bool
	waited  bool // a client waits for it, so it goes first
	running bool
	ok      bool
	err     error
	stored  os.FileInfo // the file as stat'ed before the upload that stored it
	done    chan struct{}
}

func newUploader(cfg Config, pgwal string, p Pusher, log hclog.Logger, m *metrics) *uploader {
	return &uploader{cfg: cfg, pgwal: pgwal, statusDir: filepath.Join(pgwal, "archive_status"),
		p: p, log: log, m: m, files: map[string]*upload{}}
}

func newUpload(name string) *upload {
	return &upload{name: name, history: strings.HasSuffix(name, ".history"), done: make(chan struct{})}
}

// start forgets everything from a previous Serve (the data directory may
// have been replaced) and binds background uploads to ctx.
func (u *uploader) start(ctx context.Context) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.bg, u.files, u.pending, u.failing = ctx, map[string]*upload{}, nil, false
	u.gauges()
}

// wait returns once no upload runs; call after the start context ends.
func (u *uploader) wait() { u.work.Wait() }

// request archives pg_wal/name and returns once it is stored (nil) or its
// upload failed. It first queues every other ready file, so that by the
// time postgres asks for them they are stored already.
func (u *uploader) request(ctx context.Context, name string) error {
	fi, err := os.Stat(filepath.Join(u.pgwal, name))
	if err != nil {
		return fmt.Errorf("push %s: %w", name, err)
	}
	up, lookAhead := u.want(name, fi)
	if lookAhead {
		if err := u.scan(); err != nil {
			u.log.Warn("look-ahead scan failed; uploading only what postgres asks for", "error", err)
		}
	}
	u.kick()
	select {
	case <-up.done:
		return up.err
	case <-ctx.Done():
		return fmt.Errorf("push %s: %w", name, ctx.Err())
	}
}

// want returns name's upload, queueing it first in line unless it is
// running or stored. A stored upload whose file changed since (another
// inode, size or mtime) is not trusted: the new bytes are uploaded, and
// the Pusher refuses them if they differ from the archived ones. It also
// says whether to look ahead: when no more files are queued than can run,
// and the archive is not failing (retrying a whole backlog against a dead
// S3 on every postgres retry would only add load).
func (u *uploader) want(name string, fi os.FileInfo) (*upload, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	up := u.files[name]
	if up != nil && up.ok && !sameFile(up.stored, fi) {
		u.log.Info("file changed since it was uploaded; uploading again", "name", name)
		up = nil
	}
	if up == nil {
		up = newUpload(name)
		u.files[name] = up
		u.pending = append(u.pending, up)
	}
	if !up.waited && !up.running && !up.ok {
		up.waited = true
		u.sortPending()
	}
	u.gauges()
	return up, !u.failing && len(u.pending) <= u.cfg.Concurrency
}

func sameFile(a, b os.FileInfo) bool {
	return a != nil && os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// scan queues the files archive_status marks ready that are not known,
// and forgets uploads whose .ready is gone (postgres renamed it to .done
// after we answered), which bounds memory by the backlog.
func (u *uploader) scan() error {
	u.scanMu.Lock()
	defer u.scanMu.Unlock()
	entries, err := os.ReadDir(u.statusDir)
	if err != nil {
		return fmt.Errorf("scan %s: %w", u.statusDir, err)
	}
	ready := make(map[string]bool, len(entries))
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".ready")
		if !ok {
			continue
		}
		if _, err := walname.Parse(name, u.cfg.SegmentSize); err == nil {
			ready[name] = true
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.forget(ready)
	for name := range ready {
		if u.files[name] == nil {
			up := newUpload(name)
			u.files[name] = up
			u.pending = append(u.pending, up)
		}
	}
	u.sortPending()
	u.gauges()
	return nil
}

// forget drops stored uploads and unwaited queued ones whose file is no
// longer ready. Caller holds mu.
func (u *uploader) forget(ready map[string]bool) {
	for name, up := range u.files {
		if !ready[name] && (up.ok || (!up.running && !up.waited)) {
			delete(u.files, name)
		}
	}
	u.pending = slices.DeleteFunc(u.pending, func(up *upload) bool { return u.files[up.name] != up })
}

// sortPending orders the queue as postgres's archiver does (timeline
// history files first, then by name, which is WAL order) except that
// files a client waits for come first. Caller holds mu.
func (u *uploader) sortPending() {
	slices.SortStableFunc(u.pending, func(a, b *upload) int {
		switch {
		case a.waited != b.waited:
			return boolOrder(a.waited)
		case a.history != b.history:
			return boolOrder(a.history)
		}
		return strings.Compare(a.name, b.name)
	})
}

func boolOrder(first bool) int {
	if first {
		return -1
	}
	return 1
}

// kick starts queued uploads up to Concurrency.
func (u *uploader) kick() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for u.running < u.cfg.Concurrency && len(u.pending) > 0 && u.bg.Err() == nil {
		up := u.pending[0]
		u.pending = u.pending[1:]
		up.running = true
		u.running++
		u.work.Go(func() { u.run(up) })
	}
	u.gauges()
}

// run uploads one file and records the outcome.
func (u *uploader) run(up *upload) {
	path := filepath.Join(u.pgwal, up.name)
	fi, err := os.Stat(path)
	if err == nil {
		ctx, cancel := context.WithTimeout(u.bg, u.cfg.Timeout)
		err = u.p.Push(ctx, path)
		cancel()
	}
	u.finish(up, fi, err)
	u.kick()
}

func (u *uploader) finish(up *upload, fi os.FileInfo, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.running--
	up.running = false
	if err != nil {
		up.err = fmt.Errorf("push %s: %w", up.name, err)
		if u.files[up.name] == up {
			delete(u.files, up.name) // the next request or scan tries again
		}
		u.m.uploads.WithLabelValues("error").Inc()
		if !u.failing && !errors.Is(err, context.Canceled) {
			u.log.Warn("upload failed; looking ahead again after the next success", "name", up.name, "error", err)
		}
		u.failing = true
	} else {
		up.ok, up.stored = true, fi
		u.m.uploads.WithLabelValues("ok").Inc()
		if u.failing {
			u.log.Info("uploads succeed again", "name", up.name)
		}
		u.failing = false
	}
	close(up.done)
	u.gauges()
}

// gauges publishes the queue's state. Caller holds mu.
func (u *uploader) gauges() {
	u.m.queueDepth.Set(float64(len(u.pending)))
	u.m.inFlight.Set(float64(u.running))
}
