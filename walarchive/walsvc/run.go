package walsvc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// watchEvery (a var for tests) is how often Run checks that pg_wal exists and that its
// socket is still its own. Both change only when the data directory is
// created or replaced (initdb, clone, re-clone), which takes seconds;
// meanwhile clients fall back to standalone, so nothing waits on it.
var watchEvery = 2 * time.Second

// Run is what the agent calls, with its own context, once at start: it
// listens on SocketPath(DataDir) as soon as DataDir/pg_wal exists, serves
// until ctx is done, and listens again when the socket vanishes (the data
// directory was replaced by a re-clone). It returns nil when ctx ends;
// other errors are logged and retried, because archiving works without
// the service, only slower.
func (s *Server) Run(ctx context.Context) error {
	path := SocketPath(s.cfg.DataDir)
	var lastErr string // log a listen failure once, not every watchEvery
	for {
		if err := waitFor(ctx, func() bool { return exists(filepath.Dir(path)) }); err != nil {
			return nil
		}
		l, err := Listen(s.cfg.DataDir)
		if err != nil {
			if err.Error() != lastErr {
				s.log.Warn("wal service cannot listen; postgres archives standalone meanwhile", "error", err)
				lastErr = err.Error()
			}
			if waitFor(ctx, func() bool { return false }) != nil {
				return nil
			}
			continue
		}
		fi, err := os.Lstat(path)
		if err != nil {
			l.Close()
			continue
		}
		lastErr = ""
		s.log.Info("wal service listening", "socket", path, "concurrency", s.cfg.Concurrency, "prefetch", s.cfg.Prefetch)
		sctx, cancel := context.WithCancel(ctx)
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			_ = waitFor(sctx, func() bool { return !same(path, fi) })
			cancel()
		}()
		err = s.Serve(sctx, l)
		cancel()
		<-watched // Run leaves nothing running behind it
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && !errors.Is(err, errServing) {
			s.log.Warn("wal service stopped; listening again", "error", err)
		} else {
			s.log.Info("wal service socket replaced or removed; listening again", "socket", path)
		}
	}
}

// waitFor polls cond every watchEvery until it holds (nil) or ctx ends.
func waitFor(ctx context.Context, cond func() bool) error {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait: %w", ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// same reports whether path is still the file fi describes.
func same(path string, fi fs.FileInfo) bool {
	cur, err := os.Lstat(path)
	return err == nil && os.SameFile(cur, fi)
}
