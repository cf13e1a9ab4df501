package fsstore_test

import (
	"testing"

	"github.com/tenure-pg/tenure/walarchive/storage"
	"github.com/tenure-pg/tenure/walarchive/storage/fsstore"
	"github.com/tenure-pg/tenure/walarchive/storage/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storage.Store {
		s, err := fsstore.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
