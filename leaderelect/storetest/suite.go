package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/leaderelect"
)

// Run runs the whole contract against h.
func Run(t *testing.T, h Harness) {
	cases := []struct {
		name string
		fn   func(*testing.T, Cluster)
	}{
		{"OneOfManyContendersWins", testOneWinner},
		{"ExpiryJudgedByObservation", testExpiry},
		{"HolderStopsLeadingBeforeOthersSeeExpiry", testLeadingDeadline},
		{"TimedOutButLandedWriteRecognised", testLandedWrite},
		{"HandOverLandsOnNamedMemberOnly", testHandOver},
		{"ReleaseFreesAtOnce", testRelease},
		{"TakeOverFromDeadHolder", testTakeOver},
		{"HeartbeatWrittenOnlyWhenDue", testHeartbeat},
		{"InitializeExactlyOnce", testInitialize},
		{"StateUpdatesAreNotLost", testStateUpdates},
		{"PartitionedLeaderLosesLock", testPartition},
		{"ForbiddenIsClassified", testForbidden},
		{"BadInputChangesNothing", testBadInput},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, h.NewCluster(t))
		})
	}
	if h.NewOutageCluster != nil {
		t.Run("OutageIsClassified", func(t *testing.T) {
			t.Parallel()
			c, down := h.NewOutageCluster(t)
			testOutage(t, c, down)
		})
	}
}

func testOneWinner(t *testing.T, c Cluster) {
	const n = 5
	ms := make([]*member, n)
	for i := range ms {
		// Skews of hours: nothing may depend on clocks agreeing.
		ms[i] = start(t, c, fmt.Sprintf("m%d", i), time.Duration(i-2)*time.Hour)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Go(func() { _, errs[i] = m.store.TryAcquire(ctx) })
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("both %s and %s acquired the lock", ms[winner].name, ms[i].name)
		case err == nil:
			winner = i
		case !isLost(err):
			t.Fatalf("%s: unexpected error %v", ms[i].name, err)
		}
	}
	if winner < 0 {
		t.Fatalf("nobody acquired the lock: %v", errs)
	}
	for _, m := range ms {
		eventually(t, m.name+" sees the winner", func() bool {
			l := m.view().Lock
			return l.Holder == ms[winner].name && l.Epoch == 1
		})
	}
}

func isLost(err error) bool {
	return errorsIs(err, leaderelect.ErrConflict) || errorsIs(err, leaderelect.ErrHeld)
}

func testExpiry(t *testing.T, c Cluster) {
	a := start(t, c, "a", time.Hour)
	b := start(t, c, "b", -3*time.Hour)
	got, err := a.store.TryAcquire(ctx)
	must(t, "a acquires", err)
	eventually(t, "b sees a", func() bool { return b.view().Lock.Holder == "a" })
	ttl := got.TTL

	b.advance(ttl - time.Millisecond)
	_, err = b.store.TryAcquire(ctx)
	mustErr(t, "b acquires 1ms before ttl", err, leaderelect.ErrHeld)

	a.advance(time.Second)
	renewed, err := a.store.Renew(ctx)
	must(t, "a renews", err)
	eventually(t, "b sees the renewal", func() bool { return b.view().Lock.RenewedAt.Equal(renewed.RenewedAt) })

	// The renewal restarts b's count, whatever a's clock says.
	b.advance(ttl - time.Millisecond)
	_, err = b.store.TryAcquire(ctx)
	mustErr(t, "b acquires 1ms before ttl after a renewal", err, leaderelect.ErrHeld)

	b.advance(time.Millisecond)
	won, err := b.store.TryAcquire(ctx)
	must(t, "b acquires at ttl", err)
	if won.Holder != "b" || won.Epoch != 2 {
		t.Fatalf("b's lock = %+v, want holder b epoch 2", won)
	}
	eventually(t, "a sees b", func() bool { return a.view().Lock.Holder == "b" })
	_, err = a.store.Renew(ctx)
	mustErr(t, "a renews after losing", err, leaderelect.ErrNotHolder)
	if a.view().Leading(a.clock.Now()) {
		t.Fatal("a still leading after losing the lock")
	}
}

func testLeadingDeadline(t *testing.T, c Cluster) {
	a := start(t, c, "a", 0)
	b := start(t, c, "b", 0)
	_, err := a.store.TryAcquire(ctx)
	must(t, "a acquires", err)
	eventually(t, "b sees a", func() bool { return b.view().Lock.Holder == "a" })
	opts := a.store.Options()
	// Store.Leading (the commit gate's fast path) agrees with the view's.
	leading := func(m *member) bool {
		now := m.clock.Now()
		fast, full := m.store.Leading(now), m.view().Leading(now)
		if fast != full {
			t.Fatalf("%s: Store.Leading %v, View().Leading %v", m.name, fast, full)
		}
		return full
	}
	if !leading(a) || leading(b) {
		t.Fatal("a not leading right after acquiring, or b leading")
	}
	a.advance(opts.RenewDeadline - time.Millisecond)
	if !leading(a) {
		t.Fatal("a stopped leading before its renew deadline")
	}
	a.advance(time.Millisecond)
	if leading(a) {
		t.Fatal("a still leading at its renew deadline")
	}
	// b observed the acquire no earlier than a sent it; at a's deadline the
	// lock is still held as b sees it.
	b.advance(opts.RenewDeadline)
	if b.view().Lock.Expired(b.clock.Now()) {
		t.Fatal("b sees the lock expired at a's renew deadline")
	}
	b.advance(opts.TTL - opts.RenewDeadline)
	if !b.view().Lock.Expired(b.clock.Now()) {
		t.Fatal("b does not see the lock expired after ttl")
	}
}

func testLandedWrite(t *testing.T, c Cluster) {
	a := start(t, c, "a", 0)
	b := start(t, c, "b", 0)
	a.conn.LoseNextWrite()
	before := a.conn.Writes()
	got, err := a.store.TryAcquire(ctx)
	must(t, "acquire whose response was lost", err)
	if got.Holder != "a" {
		t.Fatalf("holder %q, want a", got.Holder)
	}
	if n := a.conn.Writes() - before; n != 1 {
		t.Fatalf("acquire sent %d writes, want 1 (no blind retry)", n)
	}
	if !a.view().Leading(a.clock.Now()) {
		t.Fatal("a not leading after its landed acquire")
	}
	_, err = b.store.TryAcquire(ctx)
	mustErr(t, "b acquires", err, leaderelect.ErrHeld)

	b.conn.LoseNextWrite()
	must(t, "initialize whose response was lost", b.store.Initialize(ctx, "7301"))
	eventually(t, "a sees the initialize record", func() bool { return a.view().State.Initialize == "7301" })
}

func testHandOver(t *testing.T, c Cluster) {
	a := start(t, c, "a", 0)
	b := start(t, c, "b", 0)
	x := start(t, c, "x", 0)
	for _, m := range []*member{a, b, x} {
		_, err := m.store.PublishStatus(ctx, leaderelect.MemberStatus{Role: leaderelect.RoleReplica})
		must(t, m.name+" publishes", err)
	}
	_, err := a.store.TryAcquire(ctx)
	must(t, "a acquires", err)
	eventually(t, "a sees b's heartbeat", func() bool { _, ok := a.view().Members["b"]; return ok })

	_, err = x.store.HandOver(ctx, "b")
	mustErr(t, "hand-over by a non-holder", err, leaderelect.ErrNotHolder)

	got, err := a.store.HandOver(ctx, "b")
	must(t, "hand over to b", err)
	if got.Holder != "b" || got.Epoch != 2 {
		t.Fatalf("lock after hand-over = %+v, want holder b epoch 2", got)
	}
	for _, m := range []*member{a, b, x} {
		eventually(t, m.name+" sees b hold", func() bool { return m.view().Lock.Holder == "b" })
	}
	if a.view().Leading(a.clock.Now()) {
		t.Fatal("a still leading after handing over")
	}
	if b.view().Leading(b.clock.Now()) {
		t.Fatal("b leading before renewing the handed-over lock")
	}
	_, err = x.store.TryAcquire(ctx)
	mustErr(t, "x acquires after the hand-over", err, leaderelect.ErrHeld)
	_, err = b.store.Renew(ctx)
	must(t, "b renews", err)
	if !b.view().Leading(b.clock.Now()) {
		t.Fatal("b not leading after renewing")
	}
	_, err = a.store.Renew(ctx)
	mustErr(t, "a renews after handing over", err, leaderelect.ErrNotHolder)
}

func testRelease(t *testing.T, c Cluster) {
	a := start(t, c, "a", 0)
	b := start(t, c, "b", 0)
	_, err := a.store.TryAcquire(ctx)
	must(t, "a acquires", err)
	must(t, "a releases", a.store.Release(ctx))
	eventually(t, "b sees the release", func() bool {
		l := b.view().Lock
		return l.Exists && l.Holder == ""
	})
	got, err := b.store.TryAcquire(ctx)
	must(t, "b acquires without waiting", err)
	if got.Epoch != 2 {
		t.Fatalf("epoch %d, want 2", got.Epoch)
	}
	mustErr(t, "a releases again", a.store.Release(ctx), leaderelect.ErrNotHolder)
}

func testTakeOver(t *testing.T, c Cluster) {
	a := start(t, c, "a", 0)
	b := start(t, c, "b", 0)
	_, err := a.store.TryAcquire(ctx)
	must(t, "a acquires", err)
	eventually(t, "b sees a", func() bool { return b.view().Lock.Holder == "a" })
	_, err = b.store.TakeOver(ctx, "x")
	mustErr(t, "take over from a member that does not hold it", err, leaderelect.ErrConflict)
	got, err := b.store.TakeOver(ctx, "a")
	must(t, "b takes over before the ttl", err)
	if got.Holder != "b" || got.Epoch != 2 {
		t.Fatalf("lock after take-over = %+v, want holder b epoch 2", got)
	}
	if !b.view().Leading(b.clock.Now()) {
		t.Fatal("b not leading after taking over")
	}
	eventually(t, "a sees b", func() bool { return a.view().Lock.Holder == "b" })
	_, err = a.store.Renew(ctx)
	mustErr(t, "a renews after the take-over", err, leaderelect.ErrNotHolder)
}
