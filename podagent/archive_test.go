package podagent

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/tenure-pg/tenure/podagent/pgctl"
	"github.com/tenure-pg/tenure/walarchive/restore"
)

func TestDropIncompleteRestore(t *testing.T) {
	for _, tc := range []struct {
		name   string
		marker bool
		want   int // entries left
	}{
		{"a restore cut short is emptied", true, 0},
		{"a finished data directory is left alone", false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if err := os.MkdirAll(filepath.Join(dir, "base"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "PG_VERSION"), []byte("15\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if tc.marker {
				if err := os.WriteFile(filepath.Join(dir, restore.IncompleteMarker), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			pg, err := pgctl.New(pgctl.Config{DataDir: dir, SocketDir: t.TempDir(), Port: 5432})
			if err != nil {
				t.Fatal(err)
			}
			a := &Agent{cfg: Config{DataDir: dir}, pg: pg, log: hclog.NewNullLogger()}
			if err := a.dropIncompleteRestore(context.Background()); err != nil {
				t.Fatal(err)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != tc.want {
				t.Fatalf("%d entries left, want %d", len(entries), tc.want)
			}
		})
	}
}
