package restore

import (
	"context"
	"fmt"
	"io"

	"github.com/tenure-pg/tenure/walarchive/storage"
)

// rangeReader reads one object as consecutive GetRange chunks, with up to
// parallel chunks in flight ahead of the reader: a single S3 GET stream
// tops out well below what a node's network and the decoder can take, so
// pgBackRest and WAL-G both fetch in parallel too. Memory is bounded by
// (parallel+1) * chunk bytes.
type rangeReader struct {
	cancel context.CancelFunc
	order  chan chan chunkResult
	cur    []byte
	err    error
}

type chunkResult struct {
	data []byte
	err  error
}

func newRangeReader(ctx context.Context, st storage.Store, key string, size, chunk int64, parallel int) *rangeReader {
	ctx, cancel := context.WithCancel(ctx)
	r := &rangeReader{cancel: cancel, order: make(chan chan chunkResult, parallel-1)}
	go func() {
		defer close(r.order)
		for off := int64(0); off < size; off += chunk {
			ch := make(chan chunkResult, 1)
			select {
			case r.order <- ch:
			case <-ctx.Done():
				return
			}
			go func(off int64) { ch <- fetchChunk(ctx, st, key, off, min(chunk, size-off)) }(off)
		}
	}()
	return r
}

func fetchChunk(ctx context.Context, st storage.Store, key string, off, n int64) chunkResult {
	rc, err := st.GetRange(ctx, key, off, n)
	if err != nil {
		return chunkResult{err: err}
	}
	defer rc.Close()
	buf := make([]byte, n)
	if _, err := io.ReadFull(rc, buf); err != nil {
		return chunkResult{err: fmt.Errorf("read %s at %d: %w", key, off, err)}
	}
	return chunkResult{data: buf}
}

func (r *rangeReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		ch, ok := <-r.order
		if !ok {
			r.err = io.EOF
			continue
		}
		res := <-ch
		r.cur, r.err = res.data, res.err
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// Close stops the fetches still in flight.
func (r *rangeReader) Close() error {
	r.cancel()
	for ch := range r.order {
		<-ch
	}
	return nil
}

// openObject reads key, size bytes as the catalogue recorded them, with
// parallel ranged GETs when it is large enough to benefit, else with one
// Get. The recorded size saves a HEAD per archive; a wrong one cannot pass
// unnoticed, because the codec's trailer checks length and checksum.
// size <= 0 (unknown) asks the store.
func openObject(ctx context.Context, st storage.Store, key string, size, chunk int64, parallel int) (io.ReadCloser, error) {
	if parallel <= 1 {
		return st.Get(ctx, key)
	}
	if size <= 0 {
		info, err := st.Stat(ctx, key)
		if err != nil {
			return nil, err
		}
		size = info.Size
	}
	if size > chunk {
		return newRangeReader(ctx, st, key, size, chunk, parallel), nil
	}
	return st.Get(ctx, key)
}

// readSmall reads r to EOF, refusing more than limit bytes.
func readSmall(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = fmt.Errorf("larger than %d bytes", limit)
	}
	return b, err
}
