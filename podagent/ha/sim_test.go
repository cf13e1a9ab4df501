package ha_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/leaderelect/memstore"
	"github.com/tenure-pg/tenure/podagent/ha"
)

// The simulation drives several members, each with a real leaderelect
// Store on a shared memstore API and the real Decide, through random
// schedules of crashes, restarts, slow members, partitions from the API,
// API outages and switchovers. Postgres and REST are simulated. After every
// step it checks the safety invariants.

type simPG struct {
	dir        ha.DirState
	sysid      string
	running    bool
	recovery   bool
	timeline   int64
	lsn        uint64
	wasPrimary bool
	following  string
	sync       []string
	syncLSN    uint64
	// hist is the history of this data directory's timeline, as its
	// history file would list it.
	hist []ha.TimelineSwitch
}

type simMember struct {
	name   string
	client *memstore.Client
	store  *leaderelect.Store
	alive  bool // the agent runs
	// frozen: the agent is stopped (SIGSTOP) while its postgres runs on
	// and writes; it decides nothing and renews nothing until thawed. The
	// commit gate makes such a primary acknowledge nothing once its lease
	// is stale: check counts writers by lease freshness for that reason.
	frozen   bool
	pg       simPG
	nofail   bool
	label    leaderelect.Role
	stopping bool
}

type sim struct {
	t       *testing.T
	rng     *rand.Rand
	api     *memstore.API
	clock   *clocktesting.FakePassiveClock
	members []*simMember
	mode    ha.SyncMode
	cap     uint64
	acked   uint64 // highest LSN acknowledged synchronously to clients
	log     []string
}

var ctx = context.Background()

func newSim(t *testing.T, seed uint64, n int) *sim {
	s := &sim{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), api: memstore.NewAPI(),
		clock: clocktesting.NewFakePassiveClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), cap: 16 << 10}
	switch seed % 3 {
	case 1:
		s.mode = ha.SyncOn
	case 2:
		s.mode = ha.SyncStrict
	default:
		s.mode = ha.SyncOff
	}
	for i := range n {
		m := &simMember{name: fmt.Sprintf("m%d", i), nofail: i == n-1 && seed%2 == 0}
		m.client = s.api.Client("sim", m.name)
		s.members = append(s.members, m)
		s.start(m)
	}
	return s
}

func (s *sim) start(m *simMember) {
	opts := leaderelect.Default("sim", m.name)
	opts.Clock = s.clock
	st, err := leaderelect.New(ctx, m.client, opts)
	if err != nil {
		return // partitioned or API down: try again later
	}
	if m.store != nil {
		m.store.Close()
	}
	m.store, m.alive, m.stopping = st, true, false
}

func (s *sim) byName(name string) *simMember {
	for _, m := range s.members {
		if m.name == name {
			return m
		}
	}
	return nil
}

func (s *sim) settings(m *simMember) ha.Settings {
	o := m.store.Options()
	return ha.Settings{TTL: o.TTL, RenewDeadline: o.RenewDeadline, RetryPeriod: o.RetryPeriod,
		MaximumLagOnFailover: s.cap, SyncMode: s.mode, NoFailover: m.nofail, InPod: true,
		RecloneOnRewindFailure: true}
}

// observe builds m's observation; peers are reachable when their agent
// runs and is not frozen.
func (s *sim) observe(m *simMember) ha.Observation {
	pg := m.pg
	o := ha.Observation{Now: s.clock.Now(), Self: m.name, View: m.store.View(), Settings: s.settings(m), Label: m.label, Stopping: m.stopping,
		Peers: map[string]ha.Peer{}}
	o.Settings.Paused = o.View.State.Config.Paused
	o.Fork = s.fork(m)
	diverged, _ := o.Fork.Diverged()
	o.Postgres = ha.Postgres{Dir: pg.dir, SystemID: pg.sysid, WasPrimary: pg.wasPrimary, Running: pg.running,
		InRecovery: pg.recovery, Timeline: pg.timeline, Following: pg.following, Streaming: pg.running && pg.recovery && !diverged,
		SyncStandbys: pg.sync}
	if pg.running && !pg.recovery {
		o.Postgres.FlushedLSN, o.Postgres.SyncAppliedLSN = pg.lsn, pg.syncLSN
		o.Postgres.ReplicaFlushed = map[string]uint64{}
		var streaming []*simMember
		for _, p := range s.members {
			if p != m && p.pg.running && p.pg.recovery && p.pg.following == m.name {
				streaming = append(streaming, p)
				o.Postgres.ReplicaFlushed[p.name] = p.pg.lsn
			}
		}
		slices.SortStableFunc(streaming, func(a, b *simMember) int { return cmp.Compare(b.pg.lsn, a.pg.lsn) })
		for _, p := range streaming {
			o.Postgres.StreamingReplicas = append(o.Postgres.StreamingReplicas, p.name)
		}
	} else {
		o.Postgres.ReceivedLSN, o.Postgres.ReplayedLSN = pg.lsn, pg.lsn
	}
	for _, p := range s.members {
		if p == m {
			continue
		}
		role := leaderelect.RoleReplica
		if p.pg.running && !p.pg.recovery {
			role = leaderelect.RolePrimary
		}
		leadingNow := p.alive && p.store.View().Leading(s.clock.Now())
		o.Peers[p.name] = ha.Peer{Reachable: p.alive && !p.frozen, Running: p.pg.running, Role: role, Leading: leadingNow && role == leaderelect.RolePrimary,
			Timeline: p.pg.timeline, ReceivedLSN: p.pg.lsn, ReplayedLSN: p.pg.lsn, NoFailover: p.nofail}
	}
	return o
}

// fork is what the agent's divergence check would observe for m: its
// timeline and position against the running leader's history.
func (s *sim) fork(m *simMember) ha.Fork {
	l := s.byName(m.store.View().Lock.Holder)
	if l == nil || l == m || !l.pg.running || m.pg.dir != ha.DirInitialized || m.pg.timeline >= l.pg.timeline {
		return ha.Fork{}
	}
	return ha.Fork{Leader: l.name, Timeline: m.pg.timeline, Position: m.pg.lsn, LeaderTimeline: l.pg.timeline, History: l.pg.hist}
}

// divergedFrom reports whether r holds WAL past the point where its
// timeline ended in p's history: postgres on r can never follow p.
func divergedFrom(r, p *simMember) bool {
	if r.pg.timeline >= p.pg.timeline {
		return false
	}
	d, _ := ha.Fork{Leader: p.name, Timeline: r.pg.timeline, Position: r.pg.lsn, LeaderTimeline: p.pg.timeline, History: p.pg.hist}.Diverged()
	return d
}
