package api

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"
)

// certReloader serves the key pair in certFile and keyFile, reloaded when
// either file's modification time changes. A reload that fails keeps the
// last good pair: a half-written renewal must not stop the API.
type certReloader struct {
	certFile, keyFile string

	mu      sync.Mutex
	cert    *tls.Certificate
	mtimes  [2]time.Time
	checked time.Time
}

func (r *certReloader) load() error {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("api tls: load key pair %s, %s: %w", r.certFile, r.keyFile, err)
	}
	r.mu.Lock()
	r.cert, r.mtimes = &cert, r.stat()
	r.mu.Unlock()
	return nil
}

func (r *certReloader) stat() [2]time.Time {
	var out [2]time.Time
	for i, f := range []string{r.certFile, r.keyFile} {
		if fi, err := os.Stat(f); err == nil {
			out[i] = fi.ModTime()
		}
	}
	return out
}

func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	stale := time.Since(r.checked) > time.Minute
	if stale {
		r.checked = time.Now()
	}
	changed := stale && r.stat() != r.mtimes
	r.mu.Unlock()
	if changed {
		_ = r.load() // keeps the last good pair on failure
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cert, nil
}
