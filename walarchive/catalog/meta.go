package catalog

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tenure-pg/tenure/internal/lsn"
)

// FormatVersion is the version of backup.json written by this code.
// Readers refuse a newer one rather than misread it.
const FormatVersion = 1

// MetaPart is the name of the completion marker inside a backup.
const MetaPart = "backup.json"

// IDLayout formats backup IDs: UTC start time to the second, so IDs sort
// by time as strings and are valid storage keys.
const IDLayout = "20060102T150405Z"

// NewID is the ID of a backup started at t.
func NewID(t time.Time) string { return t.UTC().Format(IDLayout) }

// ValidID reports whether id has the form NewID produces.
func ValidID(id string) bool {
	t, err := time.Parse(IDLayout, id)
	return err == nil && NewID(t) == id
}

// Meta is backup.json: everything restore and retention need to know
// about a completed backup without opening its archives.
type Meta struct {
	Format int    `json:"format"`
	ID     string `json:"id"`
	Label  string `json:"label,omitempty"`

	// Timeline is the timeline the backup started on; StopTimeline the one
	// it ended on (they differ only if the source was promoted meanwhile).
	Timeline     uint32  `json:"timeline"`
	StopTimeline uint32  `json:"stop_timeline"`
	StartLSN     lsn.LSN `json:"-"`
	StopLSN      lsn.LSN `json:"-"`
	// StartTime and StopTime are the backup client's clock when the
	// command was sent and when the server confirmed the end. The
	// backup is consistent at StopLSN, which was written no later than
	// StopTime: restore uses StopTime as a safe bound for time targets.
	StartTime time.Time `json:"start_time"`
	StopTime  time.Time `json:"stop_time"`

	PGVersion      int    `json:"pg_version"` // server_version_num, e.g. 150014
	SystemID       string `json:"system_identifier"`
	WALSegmentSize uint64 `json:"wal_segment_size"`
	FromReplica    bool   `json:"from_replica"`
	// WALIncluded: base.tar holds the WAL from StartLSN to StopLSN, so
	// the backup restores without the archive.
	WALIncluded bool `json:"wal_included"`

	Compression string `json:"compression"`
	Encrypted   bool   `json:"encrypted"`

	RawSize    int64     `json:"raw_size"`    // sum of the archives' tar bytes
	StoredSize int64     `json:"stored_size"` // sum of the stored (encoded) bytes
	Archives   []Archive `json:"archives"`
	Manifest   *Archive  `json:"manifest,omitempty"`
}

// Archive is one stored stream of a backup: a tablespace's tar or the
// backup manifest.
type Archive struct {
	// Name is as the server named it (base.tar, 16384.tar,
	// backup_manifest), and the part name it is stored under
	// (layout.Backup(id, Name)).
	Name string `json:"name"`
	// Tablespace is the OID for a tablespace tar, 0 for base.tar.
	Tablespace uint32 `json:"tablespace,omitempty"`
	// Location is the tablespace's directory on the source.
	Location string `json:"location,omitempty"`
	Raw      int64  `json:"raw_size"`
	Stored   int64  `json:"stored_size"`
	SHA256   string `json:"sha256"` // of the raw bytes
}

// wireMeta is Meta as JSON: LSNs as PostgreSQL writes them.
type wireMeta struct {
	metaAlias
	StartLSN string `json:"start_lsn"`
	StopLSN  string `json:"stop_lsn"`
}

type metaAlias Meta

// MarshalJSON writes LSNs as "16/B374D848".
func (m Meta) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireMeta{metaAlias(m), m.StartLSN.String(), m.StopLSN.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (m *Meta) UnmarshalJSON(b []byte) error {
	var w wireMeta
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*m = Meta(w.metaAlias)
	var err error
	if m.StartLSN, err = lsn.Parse(w.StartLSN); err != nil {
		return fmt.Errorf("start_lsn: %w", err)
	}
	if m.StopLSN, err = lsn.Parse(w.StopLSN); err != nil {
		return fmt.Errorf("stop_lsn: %w", err)
	}
	return nil
}

// Validate checks what restore relies on.
func (m Meta) Validate() error {
	switch {
	case m.Format < 1 || m.Format > FormatVersion:
		return fmt.Errorf("backup %s: format %d: this build reads 1 to %d", m.ID, m.Format, FormatVersion)
	case !ValidID(m.ID):
		return fmt.Errorf("backup id %q: want the form %s", m.ID, IDLayout)
	case m.Timeline == 0 || m.StopTimeline < m.Timeline:
		return fmt.Errorf("backup %s: timelines %d..%d", m.ID, m.Timeline, m.StopTimeline)
	case m.StartLSN == 0 || m.StopLSN < m.StartLSN:
		return fmt.Errorf("backup %s: LSNs %s..%s", m.ID, m.StartLSN, m.StopLSN)
	case len(m.Archives) == 0:
		return fmt.Errorf("backup %s: no archives", m.ID)
	}
	return nil
}
