package ha_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/ha"
)

func TestSimulation(t *testing.T) {
	seeds, steps := 300, 400
	if testing.Short() {
		seeds = 40
	}
	for seed := range uint64(seeds) {
		s := newSim(t, seed, 3)
		for range steps {
			s.step()
			s.check()
			if t.Failed() {
				t.Fatalf("seed %d failed", seed)
			}
		}
		s.liveness(seed)
	}
}

// step advances time and injects at most one fault, then lets each live
// member run a loop unless it is slow this step.
func (s *sim) step() {
	s.clock.SetTime(s.clock.Now().Add(time.Duration(100+s.rng.IntN(1900)) * time.Millisecond))
	m := s.members[s.rng.IntN(len(s.members))]
	switch r := s.rng.IntN(100); {
	case r < 3 && m.alive:
		s.event("crash " + m.name)
		s.crash(m)
	case r < 10 && !m.alive:
		s.event("restart " + m.name)
		s.start(m)
	case r < 12:
		s.event("cut " + m.name)
		m.client.Cut(true)
	case r < 18:
		m.client.Cut(false)
	case r < 19:
		s.event("api down")
		s.api.SetDown(true)
	case r < 25:
		s.api.SetDown(false)
	case r < 26 && m.alive:
		s.event("switchover to " + m.name)
		_, _ = m.store.Update(ctx, func(x *leaderelect.State) error {
			x.Switchover = &leaderelect.Switchover{To: m.name}
			return nil
		})
	case r < 27 && m.alive:
		s.event("graceful stop " + m.name)
		m.stopping = true
	case r < 29 && m.alive && !m.frozen:
		s.event("freeze agent " + m.name)
		m.frozen = true
	case r < 33 && m.frozen:
		s.event("thaw agent " + m.name)
		m.frozen = false
	}
	s.replicate()
	for _, p := range s.members {
		if p.alive && !p.frozen && s.rng.IntN(10) > 0 { // 1 in 10: slow this step
			s.tick(p)
		}
	}
}

func (s *sim) event(e string) {
	s.log = append(s.log, fmt.Sprintf("%s@%s", e, s.clock.Now().Format("15:04:05.0")))
}

// replicate lets the primary write and streaming replicas catch up.
func (s *sim) replicate() {
	for _, p := range s.members {
		if !p.pg.running || p.pg.recovery {
			continue
		}
		p.pg.lsn += uint64(s.rng.IntN(4096))
		for _, r := range s.members {
			// A replica past its timeline's fork point gets nothing
			// (postgres: "new timeline forked off ... before current
			// recovery point", forever).
			if r.pg.running && r.pg.recovery && r.pg.following == p.name && r.pg.timeline <= p.pg.timeline && !divergedFrom(r, p) {
				switch s.rng.IntN(4) {
				case 0: // stalled this step
				case 1: // half way
					r.pg.lsn, r.pg.timeline, r.pg.hist = max(r.pg.lsn, (r.pg.lsn+p.pg.lsn)/2), p.pg.timeline, p.pg.hist
				default:
					r.pg.lsn, r.pg.timeline, r.pg.hist = p.pg.lsn, p.pg.timeline, p.pg.hist
				}
			}
		}
		s.acknowledge(p)
	}
}

// acknowledge advances what clients were told is committed: in
// synchronous mode, WAL every applied synchronous standby has received.
func (s *sim) acknowledge(p *simMember) {
	if s.mode == ha.SyncOff || len(p.pg.sync) == 0 || p.pg.sync[0] == "*" {
		return
	}
	acked := p.pg.lsn
	for _, name := range p.pg.sync {
		r := s.byName(name)
		if r == nil || !r.pg.running || !r.pg.recovery || r.pg.following != p.name {
			return // a standby is missing: commits wait
		}
		acked = min(acked, r.pg.lsn)
	}
	s.acked = max(s.acked, acked)
}

// check asserts the safety invariant: never two members that both run a
// writable primary while counting themselves leader.
func (s *sim) check() {
	now := s.clock.Now()
	var writers []string
	for _, m := range s.members {
		if m.alive && m.pg.running && !m.pg.recovery && m.store.View().Leading(now) {
			writers = append(writers, m.name)
		}
	}
	if len(writers) > 1 {
		s.t.Errorf("%s: two writable primaries with fresh leases: %v", s.trace(), writers)
	}
}

// liveness heals everything and checks that the cluster settles on one
// leading primary: the rules must not leave it leaderless for good.
func (s *sim) liveness(seed uint64) {
	s.api.SetDown(false)
	for _, m := range s.members {
		m.client.Cut(false)
		m.nofail, m.frozen = false, false
		if !m.alive {
			s.start(m)
		}
	}
	for range 200 {
		s.clock.SetTime(s.clock.Now().Add(time.Second))
		s.replicate()
		for _, m := range s.members {
			if m.alive {
				s.tick(m)
			}
			if !m.alive { // exited after a graceful stop: start again
				s.start(m)
			}
		}
		s.check()
	}
	now := s.clock.Now()
	leaders := 0
	for _, m := range s.members {
		if m.pg.running && !m.pg.recovery && m.store.View().Leading(now) {
			leaders++
		}
	}
	s.noDivergedReplica(seed)
	if leaders != 1 {
		states := ""
		for _, m := range s.members {
			v := m.store.View()
			states += fmt.Sprintf("\n %s:%+v decides %q (lock %s epoch %d, sync %+v, init %q)", m.name, m.pg,
				ha.Decide(s.observe(m)).Reason, v.Lock.Holder, v.Lock.Epoch, v.State.Sync, v.State.Initialize)
		}
		s.t.Errorf("seed %d: %d leading primaries after healing; %s;%s", seed, leaders, s.trace(), states)
	}
}

// noDivergedReplica: after healing, no member runs as a replica of the
// leader while holding WAL past its timeline's fork point (it would be
// reported healthy while serving rows nobody else has, and never catch
// up).
func (s *sim) noDivergedReplica(seed uint64) {
	l := s.byName(s.members[0].store.View().Lock.Holder)
	if l == nil {
		return
	}
	for _, m := range s.members {
		if m != l && m.pg.running && m.pg.recovery && divergedFrom(m, l) {
			s.t.Errorf("seed %d: %s still runs diverged from %s after healing (%+v vs %+v; decides %q); %s", seed, m.name, l.name,
				m.pg, l.pg, ha.Decide(s.observe(m)).Reason, s.trace())
		}
	}
}
