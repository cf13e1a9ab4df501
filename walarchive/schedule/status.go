package schedule

import (
	"time"

	"github.com/tenure-pg/tenure/walarchive/catalog"
)

// Stage is the part of a scheduled run that failed.
type Stage string

// Stages.
const (
	StageCatalog   Stage = "catalog"   // reading the catalogue to decide
	StageBackup    Stage = "backup"    // taking the base backup
	StageRetention Stage = "retention" // applying the retention policy
)

// Stages lists every Stage, in the order a run goes through them.
var Stages = []Stage{StageCatalog, StageBackup, StageRetention}

// Status is what the Runner knows, for the agent's REST status and
// metrics. The last backup comes from the catalogue, so after a failover
// the new leader reports the backup the old one took; failure counts are
// this process's.
type Status struct {
	Schedule string
	// Active: Source answered ok at the last check, so this member runs
	// the schedule.
	Active bool
	// Running: a backup (or the retention run after it) is in progress.
	Running bool
	// Next is when the next backup is due, or the retry time after a
	// failure; zero while not Active. NextReason says why.
	Next       time.Time
	NextReason string

	// The newest completed backup in the catalogue, by any member.
	LastBackupID string
	LastSuccess  time.Time     // its stop time
	LastDuration time.Duration // its stop minus start time

	LastFailure time.Time // zero if none since start
	LastStage   Stage     // the stage of the last failure
	LastError   string
	// Failures counts failed attempts per stage since start.
	Failures map[Stage]uint64
}

// Status returns a copy of the current status.
func (r *Runner) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.status
	s.Failures = make(map[Stage]uint64, len(Stages))
	for _, st := range Stages {
		s.Failures[st] = r.failures[st]
	}
	return s
}

// update changes the status under the lock.
func (r *Runner) update(f func(s *Status)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.status)
}

// sawBackup records m as the newest backup unless a newer one is known.
func (r *Runner) sawBackup(m catalog.Meta) {
	r.update(func(s *Status) {
		if m.ID < s.LastBackupID {
			return
		}
		s.LastBackupID, s.LastSuccess, s.LastDuration = m.ID, m.StopTime, m.StopTime.Sub(m.StartTime)
	})
}
