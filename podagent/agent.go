package podagent

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/utils/clock"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/api"
	"github.com/tenure-pg/tenure/podagent/gate"
	"github.com/tenure-pg/tenure/podagent/ha"
	"github.com/tenure-pg/tenure/podagent/pgctl"
)

// Agent is one member's agent.
type Agent struct {
	cfg   Config
	log   hclog.Logger
	clock clock.Clock
	store *leaderelect.Store
	pg    *pgctl.Instance
	kube  kubernetes.Interface  // nil outside a pod: no labels
	pods  corelisters.PodLister // the cluster's pods, in a pod only
	http  *http.Client          // for peers' REST APIs
	wake  chan struct{}
	token string     // bearer token for peers' failsafe endpoint
	arch  *archiving // nil without archives
	gate  *gate.Gate // nil with the commit gate off

	stopping atomic.Bool
	// execMu serialises the loop's actions and the REST commands that touch
	// postgres.
	execMu sync.Mutex

	mu  sync.Mutex
	mem memory
}

// memory is what the executor remembers between loops. All of it can be
// rebuilt conservatively after a restart (zero values are safe).
type memory struct {
	state           string // human-readable, for the REST API
	decision        string // last decision's reason, to log changes once
	label           leaderelect.Role
	rewindFailedFor string // leader against which pg_rewind failed for good
	// restoring: the data directory is a clone's restore not finished
	// off (ha.Postgres.Restoring). Its postgres may have promoted itself
	// short of the archive's end: it is no writable primary of the
	// cluster (no /primary) until FinishRestore.
	restoring         bool
	rewoundFor        string // leader this data directory was rewound onto
	syncAppliedLSN    uint64
	failsafeConfirmed time.Time
	failsafeGranted   time.Time
	dcsLastSeen       time.Time
	sysid             string
	pgStatus          pgctl.Status
	pgRunning         bool
	loopAt            time.Time
	leading           bool
	stopCheckpoint    uint64   // checkpoint LSN of the last clean stop
	following         string   // member primary_conninfo points at
	syncMembers       []string // the synchronous standbys as last applied
	pgStatusAt        time.Time
	archive           *api.ArchiveInfo  // with pgStatus, for the REST API
	goodParams        map[string]string // parameters as last rendered (see dynconf.go)
	configError       string            // what of the stored config is not applied, for the REST API
	diverged          string            // why the data diverged from the leader's history; "" when not
	historyKey        string            // leader/timeline of the cached history
	history           []ha.TimelineSwitch
}

// snapshotFresh is how long a status read for the REST API is reused:
// load balancers and peers polling many times a second share one query.
const snapshotFresh = 50 * time.Millisecond

// New assembles an agent from its parts. kube may be nil (not in a pod).
func New(cfg Config, store *leaderelect.Store, pg *pgctl.Instance, kube kubernetes.Interface, log hclog.Logger) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("agent config: %w", err)
	}
	arch, err := newArchiving(cfg.DataDir, cfg.Archive, log)
	if err != nil {
		return nil, fmt.Errorf("agent config: %w", err)
	}
	hc, err := peerClient(cfg.APICAFile)
	if err != nil {
		return nil, fmt.Errorf("agent config: %w", err)
	}
	archiveCmd, restoreCmd := arch.commands()
	if cfg.ArchiveCommand == "" {
		cfg.ArchiveCommand = archiveCmd
	}
	if cfg.RestoreCommand == "" {
		cfg.RestoreCommand = restoreCmd
	}
	a := &Agent{
		arch:  arch,
		cfg:   cfg,
		log:   log,
		clock: clock.RealClock{},
		store: store,
		pg:    pg,
		kube:  kube,
		http:  hc,
		wake:  make(chan struct{}, 1),
		token: cfg.APIToken,
		mem:   memory{state: "starting", loopAt: time.Now()},
	}
	if cfg.CommitGate {
		a.gate = gate.New(gate.Config{
			ConnString: fmt.Sprintf("host=%s port=%d user=%s dbname=postgres", cfg.SocketDir, cfg.Port, cfg.Superuser),
			Leading:    a.leadingNow,
			Log:        log.Named("gate"),
		})
	}
	if err := arch.schedule(a.backupSource, log); err != nil {
		return nil, fmt.Errorf("agent config: %w", err)
	}
	return a, nil
}

// Stop asks for a graceful stop: a leader hands the lock to a caught-up
// replica before it exits. Run returns once done.
func (a *Agent) Stop() {
	a.stopping.Store(true)
	a.poke()
}

func (a *Agent) poke() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Run is the HA loop. It returns after a graceful stop, or when ctx ends
// (leaving postgres as it is, like a crash would).
func (a *Agent) Run(ctx context.Context) error {
	if a.kube != nil {
		a.readOwnLabel(ctx)
		if err := a.watchPods(ctx); err != nil {
			// Without it the agent only loses the fast path on a dead
			// leader; it still waits for the TTL.
			a.log.Warn("no pod watch: failover after a kubelet-reported death waits for the ttl", "error", err)
		}
	}
	if err := a.dropIncompleteRestore(ctx); err != nil {
		return fmt.Errorf("empty an unfinished restore: %w", err)
	}
	gctx, stopGuard := context.WithCancel(ctx)
	defer stopGuard()
	go a.guard(gctx)
	if a.gate != nil {
		go a.gate.Run(gctx)
	}
	go a.arch.run(gctx)
	var observed time.Time
	for {
		a.rereadAfterGap(ctx, observed)
		observed = a.clock.Now()
		o := a.observe(ctx)
		d := ha.Decide(o)
		a.logDecision(o, d)
		a.execMu.Lock()
		exit, ok := a.execute(ctx, o, d)
		if ok && !exit && !acted(d) {
			a.applyParameters(ctx)
		}
		a.execMu.Unlock()
		a.publish(ctx, o)
		if exit {
			return nil
		}
		if err := a.sleep(ctx, a.nextWake(o, d, ok)); err != nil {
			return nil
		}
	}
}

// rereadAfterGap reads the lock from the API before a decision that
// follows the previous one by more than the renew deadline (the agent was
// frozen, or an action took long): the watch may not have delivered what
// changed meanwhile, and a decision on a lock view 20 s old was seen after
// a SIGSTOP (issue 13). A failed read leaves the view as it is: the
// decision then sees the lock as it last saw it change, which only ever
// makes it older.
func (a *Agent) rereadAfterGap(ctx context.Context, last time.Time) {
	if last.IsZero() || a.clock.Since(last) <= a.cfg.RenewDeadline {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, failsafeBudget)
	defer cancel()
	if err := a.store.Probe(rctx); err != nil {
		a.log.Warn("re-read the lock after a long gap", "gap", a.clock.Since(last).Round(time.Millisecond), "error", err)
	}
}

// nextWake is the earliest instant at which a decision could change with
// no event: renewal due, renew deadline, observed expiry, or LoopWait.
func (a *Agent) nextWake(o ha.Observation, d ha.Decision, ok bool) time.Time {
	now := a.clock.Now()
	if !ok {
		return now.Add(time.Second) // a step failed: retry, not spin
	}
	if d.Soon || acted(d) {
		return now.Add(200 * time.Millisecond) // actions beget follow-ups
	}
	at := []time.Time{now.Add(a.cfg.LoopWait)}
	v := o.View
	if v.Lock.Holder == a.cfg.Member && !v.LastRenewal.IsZero() {
		at = append(at, v.LastRenewal.Add(a.cfg.RetryPeriod), v.LastRenewal.Add(a.cfg.RenewDeadline))
	}
	if v.Lock.Holder != "" && v.Lock.Holder != a.cfg.Member {
		at = append(at, v.Lock.ObservedAt.Add(v.Lock.TTL))
	}
	next := slices.MinFunc(at, func(x, y time.Time) int { return x.Compare(y) })
	// Never spin: an instant already past means a step is failing (a
	// renewal during an outage, say): retry it once a second.
	if !next.After(now) {
		return now.Add(time.Second)
	}
	return maxTime(next, now.Add(50*time.Millisecond))
}

// acted reports whether d changed anything beyond a routine renewal.
func acted(d ha.Decision) bool {
	for _, x := range d.Actions {
		if x.Kind != ha.Wait && x.Kind != ha.RenewLock && x.Kind != ha.NeedsAttention {
			return true
		}
	}
	return false
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (a *Agent) sleep(ctx context.Context, until time.Time) error {
	t := a.clock.NewTimer(until.Sub(a.clock.Now()))
	defer t.Stop()
	var exited <-chan struct{} // a closed channel would spin: only while running
	if a.pg.Running() {
		exited = a.pg.Exited()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
	case <-a.store.Changes():
	case <-a.wake:
	case <-exited:
	}
	return nil
}

func (a *Agent) logDecision(o ha.Observation, d ha.Decision) {
	// Logged once per change of what is decided; a routine renewal alone
	// is not a change.
	var acts []string
	for _, x := range d.Actions {
		if x.Kind != ha.RenewLock {
			acts = append(acts, x.String())
		}
	}
	key := d.Reason + fmt.Sprint(acts)
	a.mu.Lock()
	changed := key != a.mem.decision
	a.mem.decision = key
	a.mu.Unlock()
	if !changed {
		return
	}
	a.log.Info("decision", "reason", d.Reason, "actions", fmt.Sprint(d.Actions), "holder", o.View.Lock.Holder,
		"epoch", o.View.Lock.Epoch, "timeline", o.Postgres.Timeline, "lsn", o.Postgres.Position())
}

// Snapshot implements api.Source. WAL positions are read from postgres
// on the spot (a few ms): peers rank candidates and await hand-over
// targets by them, and a position as old as the last loop (up to
// LoopWait) made a graceful hand-over wait that long.
func (a *Agent) Snapshot() api.Snapshot {
	a.mu.Lock()
	fresh := a.clock.Since(a.mem.pgStatusAt) < snapshotFresh
	a.mu.Unlock()
	if a.pg.Running() && !fresh {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		st, err := a.pg.Status(ctx)
		cancel()
		if err == nil {
			// The archive's state (a directory listing) is read at the
			// same bounded rate, outside the lock.
			arch := a.arch.status(a.cfg.DataDir, st.Archiver)
			a.mu.Lock()
			a.mem.pgStatus, a.mem.pgStatusAt, a.mem.archive = st, a.clock.Now(), arch
			a.mu.Unlock()
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.snapshotLocked()
}

func (a *Agent) apiToken() string { return a.token }

// Collectors are the agent's Prometheus collectors besides the REST
// API's own series: the WAL archive's and its service's.
func (a *Agent) Collectors() []prometheus.Collector { return a.arch.collectors(a.cfg.DataDir) }

// UnsafeEndpoints are the agent's own REST endpoints that change
// something, for api.Config.Unsafe: served behind the API's authorizer.
func (a *Agent) UnsafeEndpoints() map[string]http.Handler {
	return map[string]http.Handler{"POST /failsafe": http.HandlerFunc(a.serveFailsafe)}
}
