package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/storage"
)

// WALFile is one object of the archive's WAL directory.
type WALFile struct {
	Name    string    // the WAL file name (segment, history, ...)
	ModTime time.Time // when the archive stored it
}

// ListWAL lists the WAL directory of arch in name order. Restore plans
// and retention both start from it.
func ListWAL(ctx context.Context, st storage.Store, arch layout.Archive) ([]WALFile, error) {
	var out []WALFile
	for info, err := range st.List(ctx, arch.WALPrefix()) {
		if err != nil {
			return nil, fmt.Errorf("list WAL: %w", err)
		}
		if name, ok := arch.WALName(info.Key); ok {
			out = append(out, WALFile{Name: name, ModTime: info.ModTime})
		}
	}
	return out, nil
}
