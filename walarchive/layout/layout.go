package layout

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tenure-pg/tenure/walarchive/storage"
)

// Archive is where one cluster's archive lives in a store.
type Archive struct {
	// Prefix is optional, '/'-separated, without leading or trailing '/'.
	Prefix string `json:"prefix,omitempty"`
	// Cluster is the cluster's name; UID its Kubernetes UID.
	Cluster string `json:"cluster"`
	UID     string `json:"uid"`
	// Major is the PostgreSQL major version (15 for 15.8).
	Major int `json:"major"`
}

// Major version bounds: 10 is the first two-part version number; anything
// past 99 is a typo.
const (
	minMajor = 10
	maxMajor = 99
)

// Validate reports every problem with a at once.
func (a Archive) Validate() error {
	var errs []error
	if a.Prefix != "" {
		if strings.HasPrefix(a.Prefix, "/") || strings.HasSuffix(a.Prefix, "/") {
			errs = append(errs, fmt.Errorf("archive prefix %q: write it without leading or trailing '/'", a.Prefix))
		} else if err := storage.ValidateKey(a.Prefix); err != nil {
			errs = append(errs, fmt.Errorf("archive prefix: %w", err))
		}
	}
	for _, c := range []struct{ field, value string }{{"cluster", a.Cluster}, {"uid", a.UID}} {
		if err := ValidateComponent(c.value); err != nil {
			errs = append(errs, fmt.Errorf("archive %s: %w", c.field, err))
		}
	}
	if a.Major < minMajor || a.Major > maxMajor {
		errs = append(errs, fmt.Errorf("archive major %d: want a PostgreSQL major version from %d to %d", a.Major, minMajor, maxMajor))
	}
	return errors.Join(errs...)
}

// ValidateComponent reports whether s can be one component of a key: a
// cluster name, UID, backup id or WAL file name. Errors wrap
// storage.ErrInvalidKey.
func ValidateComponent(s string) error {
	if strings.Contains(s, "/") {
		return fmt.Errorf("%q: %w: contains '/'", s, storage.ErrInvalidKey)
	}
	return storage.ValidateKey(s)
}

// Root is the prefix of everything in the archive, without a trailing '/'.
func (a Archive) Root() string {
	parts := []string{a.Cluster, a.UID, strconv.Itoa(a.Major)}
	if a.Prefix != "" {
		parts = append([]string{a.Prefix}, parts...)
	}
	return strings.Join(parts, "/")
}

// WALPrefix is the "directory" of WAL files, with a trailing '/'.
func (a Archive) WALPrefix() string { return a.Root() + "/wal/" }

// WAL is the key of the WAL file name (a segment, .partial, .history or
// .backup file name as PostgreSQL writes it).
func (a Archive) WAL(name string) string { return a.WALPrefix() + name }

// WALName returns the file name under WALPrefix that key names, and false
// for keys outside it or in a deeper "directory".
func (a Archive) WALName(key string) (string, bool) {
	name, ok := strings.CutPrefix(key, a.WALPrefix())
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

// BackupsPrefix is the "directory" of base backups, with a trailing '/'.
func (a Archive) BackupsPrefix() string { return a.Root() + "/basebackups/" }

// Backup is the key of one part of base backup id. Part may contain '/'
// ("tablespaces/16384.tar"); id must be one component.
func (a Archive) Backup(id, part string) string { return a.BackupsPrefix() + id + "/" + part }
