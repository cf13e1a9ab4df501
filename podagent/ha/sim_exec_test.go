package ha_test

import (
	"errors"
	"fmt"
	"slices"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/ha"
)

var errSim = errors.New("simulated failure")

// tick runs one loop of m: observe, decide, execute until the first error.
func (s *sim) tick(m *simMember) {
	d := ha.Decide(s.observe(m))
	for _, a := range d.Actions {
		if err := s.exec(m, a); err != nil {
			break
		}
	}
	// Whatever failed, a loop never ends with a writable primary that does
	// not count itself leader.
	if m.alive && m.pg.running && !m.pg.recovery && !m.store.View().Leading(s.clock.Now()) {
		s.t.Errorf("%s: %s still writable after its loop without a fresh lease (decided %q)", s.trace(), m.name, d.Reason)
	}
}

func (s *sim) exec(m *simMember, a ha.Action) error {
	st := m.store
	var err error
	defer func() {
		switch a.Kind {
		case ha.Wait, ha.Label, ha.FenceOthers, ha.RenewLock, ha.RecordHistory:
		default:
			s.event(fmt.Sprintf("%s:%v(err=%v,lsn=%d)", m.name, a, err != nil, m.pg.lsn))
		}
	}()
	switch a.Kind {
	case ha.AcquireLock:
		_, err = st.TryAcquire(ctx)
	case ha.RenewLock:
		_, err = st.Renew(ctx)
	case ha.ReleaseLock:
		err = st.Release(ctx)
	case ha.HandOver:
		_, err = st.HandOver(ctx, a.Member)
	case ha.InitDB:
		m.pg = simPG{dir: ha.DirInitialized, sysid: "sys-" + m.name, timeline: 1, lsn: 100, wasPrimary: true}
	case ha.RecordInitialize:
		err = st.Initialize(ctx, a.Member)
	case ha.Basebackup, ha.Reclone:
		err = s.clone(m, a.Member)
	case ha.Rewind:
		err = s.rewind(m, a.Member)
	case ha.StartPrimary:
		m.pg.running, m.pg.recovery, m.pg.following = true, false, ""
	case ha.StartReplica:
		m.pg.running, m.pg.recovery, m.pg.following = true, true, a.Member
	case ha.Follow:
		m.pg.following = a.Member
	case ha.Promote:
		err = s.promote(m)
	case ha.Demote, ha.StopPostgres:
		m.pg.running, m.pg.sync = false, nil
	case ha.AwaitCandidate:
		if c := s.byName(a.Member); c == nil || c.pg.lsn < m.pg.lsn {
			err = errSim
			_, _ = st.Update(ctx, func(x *leaderelect.State) error { x.Switchover = nil; return nil })
		}
	case ha.FenceOthers:
		for _, p := range s.members {
			if p != m && p.label == leaderelect.RolePrimary {
				p.label = ""
			}
		}
	case ha.Label:
		m.label = a.Role
	case ha.PublishSync:
		_, err = st.Update(ctx, func(x *leaderelect.State) error {
			x.Sync = leaderelect.SyncState{Leader: m.name, Members: a.Members}
			return nil
		})
	case ha.ApplySync:
		m.pg.sync, m.pg.syncLSN = a.Members, m.pg.lsn
	case ha.ClearSwitchover:
		_, err = st.Update(ctx, func(x *leaderelect.State) error { x.Switchover = nil; return nil })
	case ha.RecordHistory:
		_, err = st.Update(ctx, func(x *leaderelect.State) error {
			x.History = append(x.History, leaderelect.HistoryEntry{Timeline: m.pg.timeline, LSN: m.pg.lsn, Leader: m.name, Reason: a.Reason})
			return nil
		})
	case ha.Exit:
		s.crash(m)
	case ha.Wait, ha.NeedsAttention, ha.CreateSlots, ha.Checkpoint:
	default:
		s.t.Fatalf("sim cannot execute %v", a)
	}
	return err
}

func (s *sim) clone(m *simMember, from string) error {
	src := s.byName(from)
	if src == nil || !src.alive || !src.pg.running {
		return errSim
	}
	m.pg = simPG{dir: ha.DirInitialized, sysid: src.pg.sysid, timeline: src.pg.timeline, lsn: src.pg.lsn, hist: src.pg.hist}
	return nil
}

func (s *sim) rewind(m *simMember, from string) error {
	src := s.byName(from)
	if src == nil || !src.pg.running || src.pg.sysid != m.pg.sysid || m.pg.running {
		return errSim // pg_rewind refuses a running target
	}
	m.pg.timeline, m.pg.lsn, m.pg.wasPrimary, m.pg.hist = src.pg.timeline, min(m.pg.lsn, src.pg.lsn), false, src.pg.hist
	return nil
}

// promote checks, at the moment it happens, that the promotion is one the
// rules allow, then makes m a primary on a new timeline.
func (s *sim) promote(m *simMember) error {
	if !m.pg.running || !m.pg.recovery {
		return errSim
	}
	if m.nofail {
		s.t.Fatalf("%s: nofailover member %s promoted", s.trace(), m.name)
	}
	truth, err := s.api.Client("sim", "observer").Get(ctx, leaderelect.Key{Kind: leaderelect.KindState})
	sw := truth.State.Switchover
	forced := err == nil && sw != nil && sw.To == m.name
	if s.mode != ha.SyncOff && truth.State.Sync.Leader != "" && !forced && !truth.State.Sync.Contains(m.name) && truth.State.Sync.Leader != m.name {
		s.t.Fatalf("%s: %s promoted in synchronous mode outside the published set %v", s.trace(), m.name, truth.State.Sync.Members)
	}
	if s.mode != ha.SyncOff && !forced && m.pg.lsn < s.acked {
		s.t.Fatalf("%s: %s promoted at lsn %d, lacking commits acknowledged up to %d", s.trace(), m.name, m.pg.lsn, s.acked)
	}
	best := m.pg.lsn
	for _, p := range s.members {
		// A frozen agent cannot tell its position; WAL on an older
		// timeline is behind the fork or diverged.
		if p.alive && !p.frozen && p.pg.running && p.pg.timeline >= m.pg.timeline {
			best = max(best, p.pg.lsn)
		}
	}
	if !forced && best-m.pg.lsn > s.cap {
		s.t.Fatalf("%s: %s promoted %d bytes behind the best live member", s.trace(), m.name, best-m.pg.lsn)
	}
	m.pg.hist = append(slices.Clone(m.pg.hist), ha.TimelineSwitch{Parent: m.pg.timeline, Switchpoint: m.pg.lsn})
	m.pg.recovery, m.pg.timeline, m.pg.wasPrimary, m.pg.following = false, m.pg.timeline+1, true, ""
	return nil
}

func (s *sim) crash(m *simMember) {
	m.alive, m.frozen = false, false
	m.pg.running, m.pg.sync = false, nil
	m.client.Cut(false)
	if m.store != nil {
		m.store.Close()
	}
}

func (s *sim) trace() string {
	tail := s.log
	if len(tail) > 40 {
		tail = tail[len(tail)-40:]
	}
	return fmt.Sprintf("after %d events (last: %v)", len(s.log), tail)
}
