package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/leaderelect"
)

var errorsIs = errors.Is

func testHeartbeat(t *testing.T, c Cluster) {
	a := start(t, c, "a", 0)
	b := start(t, c, "b", 0)
	opts := a.store.Options()
	st := leaderelect.MemberStatus{Role: leaderelect.RoleReplica, State: "streaming", Timeline: 1, ReceivedLSN: 100, APIURL: "http://127.0.0.2:8008"}
	steps := []struct {
		name    string
		advance time.Duration
		edit    func(*leaderelect.MemberStatus)
		want    bool
	}{
		{"first", 0, nil, true},
		{"unchanged", time.Second, nil, false},
		{"wal moved within min interval", 0, func(s *leaderelect.MemberStatus) { s.ReceivedLSN = 200 }, false},
		{"wal moved after min interval", opts.HeartbeatMinInterval, nil, true},
		{"role changed at once", 0, func(s *leaderelect.MemberStatus) { s.Role = leaderelect.RolePrimary }, true},
		{"unchanged just before keepalive", opts.HeartbeatMaxInterval - time.Millisecond, nil, false},
		{"keepalive", time.Millisecond, nil, true},
	}
	for _, step := range steps {
		a.advance(step.advance)
		if step.edit != nil {
			step.edit(&st)
		}
		before := a.conn.Writes()
		wrote, err := a.store.PublishStatus(ctx, st)
		must(t, step.name, err)
		sent := a.conn.Writes() - before
		if wrote != step.want || (sent > 0) != step.want {
			t.Fatalf("%s: wrote=%v requests=%d, want write=%v", step.name, wrote, sent, step.want)
		}
	}
	eventually(t, "b sees a's heartbeat", func() bool {
		m, ok := b.view().Members["a"]
		return ok && m.Role == leaderelect.RolePrimary && m.ReceivedLSN == 200 && m.APIURL == st.APIURL
	})
}

func testInitialize(t *testing.T, c Cluster) {
	const n = 4
	ms := make([]*member, n)
	for i := range ms {
		ms[i] = start(t, c, fmt.Sprintf("m%d", i), 0)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Go(func() { errs[i] = m.store.Initialize(ctx, fmt.Sprintf("70000000000000%d", i)) })
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("both %d and %d initialized", winner, i)
		case err == nil:
			winner = i
		case !errorsIs(err, leaderelect.ErrAlreadyInitialized):
			t.Fatalf("m%d: unexpected error %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("nobody initialized: %v", errs)
	}
	want := fmt.Sprintf("70000000000000%d", winner)
	for _, m := range ms {
		eventually(t, m.name+" sees the identifier", func() bool { return m.view().State.Initialize == want })
	}
	must(t, "winner initializes again", ms[winner].store.Initialize(ctx, want))
}

func testStateUpdates(t *testing.T, c Cluster) {
	const n, each = 3, 4
	ms := make([]*member, n)
	for i := range ms {
		ms[i] = start(t, c, fmt.Sprintf("m%d", i), 0)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n*each)
	for i, m := range ms {
		wg.Go(func() {
			for j := range each {
				_, err := m.store.Update(ctx, func(s *leaderelect.State) error {
					s.History = append(s.History, leaderelect.HistoryEntry{Timeline: int64(i*each + j), Leader: m.name})
					return nil
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent update: %v", err)
	}
	eventually(t, "every history entry present", func() bool { return len(ms[0].view().State.History) == n*each })
	var tls []int64
	for _, h := range ms[0].view().State.History {
		tls = append(tls, h.Timeline)
	}
	slices.Sort(tls)
	for i, tl := range tls {
		if tl != int64(i) {
			t.Fatalf("history timelines %v: entry %d lost or doubled", tls, i)
		}
	}

	sw := leaderelect.Switchover{From: "m0", To: "m1", ScheduledAt: t0.Add(time.Minute)}
	_, err := ms[0].store.Update(ctx, func(s *leaderelect.State) error {
		s.Switchover = &sw
		s.Sync = leaderelect.SyncState{Leader: "m0", Members: []string{"m1"}}
		s.Config.TTLSeconds = 30
		return nil
	})
	must(t, "set intent", err)
	// Every member must see it: the failed update below runs on m1, and its
	// view is what the assertion checks.
	for _, m := range ms[1:] {
		eventually(t, m.name+" sees the intent", func() bool {
			v := m.view().State
			return v.Switchover != nil && v.Switchover.To == "m1" && v.Switchover.ScheduledAt.Equal(sw.ScheduledAt) &&
				v.Sync.Contains("m1") && v.Config.TTLSeconds == 30
		})
	}
	boom := errors.New("refused by caller")
	_, err = ms[1].store.Update(ctx, func(s *leaderelect.State) error { s.Switchover = nil; return boom })
	mustErr(t, "update whose fn fails", err, boom)
	if ms[1].view().State.Switchover == nil {
		t.Fatal("a failed update changed the view")
	}
}

func testPartition(t *testing.T, c Cluster) {
	a := start(t, c, "a", 0)
	b := start(t, c, "b", 0)
	_, err := a.store.TryAcquire(ctx)
	must(t, "a acquires", err)
	eventually(t, "b sees a", func() bool { return b.view().Lock.Holder == "a" })

	a.conn.Cut(true)
	a.advance(a.store.Options().RetryPeriod)
	_, err = a.store.Renew(ctx)
	mustErr(t, "renew while cut off", err, leaderelect.ErrUnavailable)
	b.advance(a.store.Options().TTL)
	_, err = b.store.TryAcquire(ctx)
	must(t, "b acquires after ttl", err)

	a.conn.Cut(false)
	eventually(t, "a sees b after healing", func() bool {
		_, err := a.store.Renew(ctx)
		return errorsIs(err, leaderelect.ErrNotHolder)
	})
}

func testForbidden(t *testing.T, c Cluster) {
	be := c.Forbidden(t, "f")
	_, err := be.Get(ctx, leaderelect.Key{Kind: leaderelect.KindLock})
	mustErr(t, "get", err, leaderelect.ErrForbidden)
	_, err = be.Put(ctx, leaderelect.Record{Key: leaderelect.Key{Kind: leaderelect.KindLock}, Lock: leaderelect.Lock{Holder: "f", TTL: 10 * time.Second}})
	mustErr(t, "put", err, leaderelect.ErrForbidden)
	_, err = leaderelect.New(ctx, be, leaderelect.Default(cluster, "f"))
	mustErr(t, "new store", err, leaderelect.ErrForbidden)
}

func testBadInput(t *testing.T, c Cluster) {
	a := start(t, c, "a", 0)
	_, err := a.store.PublishStatus(ctx, leaderelect.MemberStatus{Name: "a"})
	must(t, "a publishes", err)
	_, err = a.store.TryAcquire(ctx)
	must(t, "a acquires", err)
	before := a.conn.Writes()
	_, err = a.store.HandOver(ctx, "nobody")
	mustErr(t, "hand over to unknown member", err, leaderelect.ErrInvalid)
	_, err = a.store.HandOver(ctx, "")
	mustErr(t, "hand over to empty name", err, leaderelect.ErrInvalid)
	_, err = a.store.HandOver(ctx, "a")
	mustErr(t, "hand over to self", err, leaderelect.ErrInvalid)
	_, err = a.store.PublishStatus(ctx, leaderelect.MemberStatus{Name: "b"})
	mustErr(t, "publish another member's status", err, leaderelect.ErrInvalid)
	mustErr(t, "initialize with empty id", a.store.Initialize(ctx, ""), leaderelect.ErrInvalid)
	if n := a.conn.Writes() - before; n != 0 {
		t.Fatalf("bad input sent %d writes", n)
	}
	if l := a.view().Lock; l.Holder != "a" || l.Epoch != 1 {
		t.Fatalf("bad input changed the lock: %+v", l)
	}
}

func testOutage(t *testing.T, c Cluster, down func(bool)) {
	a := start(t, c, "a", 0)
	_, err := a.store.TryAcquire(ctx)
	must(t, "a acquires", err)
	down(true)
	a.advance(a.store.Options().RetryPeriod)
	_, err = a.store.Renew(ctx)
	mustErr(t, "renew during outage", err, leaderelect.ErrUnavailable)
	_, err = a.store.PublishStatus(ctx, leaderelect.MemberStatus{Role: leaderelect.RolePrimary})
	mustErr(t, "publish during outage", err, leaderelect.ErrUnavailable)
	down(false)
	eventually(t, "renew after the outage", func() bool {
		_, err := a.store.Renew(ctx)
		return err == nil
	})
	if !a.view().Leading(a.clock.Now()) {
		t.Fatal("a not leading after renewing past the outage")
	}
}
