package leaderelect

import (
	"errors"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Options)
		ok   bool
	}{
		{"defaults", func(*Options) {}, true},
		{"empty cluster", func(o *Options) { o.Cluster = "" }, false},
		{"empty member", func(o *Options) { o.Member = "" }, false},
		{"uppercase member", func(o *Options) { o.Member = "Pod-0" }, false},
		{"member ends with dash", func(o *Options) { o.Member = "pod-" }, false},
		{"member of 64 chars", func(o *Options) { o.Member = string(make([]byte, 64)) }, false},
		{"zero ttl", func(o *Options) { o.TTL = 0 }, false},
		{"negative ttl", func(o *Options) { o.TTL = -time.Second }, false},
		{"fractional ttl", func(o *Options) { o.TTL = 1500 * time.Millisecond }, false},
		{"renew deadline equals ttl", func(o *Options) { o.RenewDeadline = o.TTL }, false},
		{"renew deadline above ttl", func(o *Options) { o.RenewDeadline = 2 * o.TTL }, false},
		{"retry period too long for deadline", func(o *Options) { o.RetryPeriod = 6 * time.Second }, false},
		{"request timeout beyond deadline", func(o *Options) { o.RequestTimeout = o.RenewDeadline }, false},
		{"heartbeat max below min", func(o *Options) { o.HeartbeatMaxInterval = time.Second }, false},
		{"no clock", func(o *Options) { o.Clock = nil }, false},
		{"patroni-like timings", func(o *Options) {
			o.TTL, o.RenewDeadline, o.RetryPeriod = 30*time.Second, 20*time.Second, 10*time.Second
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := Default("alpha", "alpha-0")
			tc.edit(&o)
			err := o.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
		})
	}
}

func TestHeartbeatDue(t *testing.T) {
	base := MemberStatus{Name: "a", Role: RoleReplica, State: "streaming", Timeline: 2, ReceivedLSN: 10}
	at := time.Unix(1000, 0)
	const minI, maxI = 5 * time.Second, 2 * time.Minute
	with := func(f func(*MemberStatus)) MemberStatus { s := base; f(&s); return s }
	cases := []struct {
		name      string
		next      MemberStatus
		lastWrite time.Time
		now       time.Time
		want      bool
	}{
		{"never written", base, time.Time{}, at, true},
		{"unchanged", base, at, at.Add(maxI - time.Nanosecond), false},
		{"keepalive", base, at, at.Add(maxI), true},
		{"lsn moved inside min interval", with(func(s *MemberStatus) { s.ReceivedLSN = 20 }), at, at.Add(minI - time.Nanosecond), false},
		{"lsn moved after min interval", with(func(s *MemberStatus) { s.ReplayedLSN = 20 }), at, at.Add(minI), true},
		{"role changed", with(func(s *MemberStatus) { s.Role = RolePrimary }), at, at, true},
		{"timeline changed", with(func(s *MemberStatus) { s.Timeline = 3 }), at, at, true},
		{"tags changed", with(func(s *MemberStatus) { s.Tags.NoFailover = true }), at, at, true},
		{"only UpdatedAt differs", with(func(s *MemberStatus) { s.UpdatedAt = at }), at, at.Add(time.Second), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := HeartbeatDue(base, tc.next, tc.lastWrite, tc.now, minI, maxI)
			if got != tc.want {
				t.Fatalf("HeartbeatDue = %v (%s), want %v", got, reason, tc.want)
			}
		})
	}
}

func TestLockExpired(t *testing.T) {
	seen := time.Unix(5000, 0)
	held := LockView{Lock: Lock{Holder: "a", TTL: 10 * time.Second}, Exists: true, ObservedAt: seen}
	cases := []struct {
		name string
		lock LockView
		now  time.Time
		want bool
	}{
		{"never created", LockView{}, seen, true},
		{"released", LockView{Lock: Lock{TTL: 10 * time.Second}, Exists: true, ObservedAt: seen}, seen, true},
		{"fresh", held, seen, false},
		{"1ms before ttl", held, seen.Add(10*time.Second - time.Millisecond), false},
		{"at ttl", held, seen.Add(10 * time.Second), true},
		{"observer clock went back", held, seen.Add(-time.Hour), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.lock.Expired(tc.now); got != tc.want {
				t.Fatalf("Expired = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNewer(t *testing.T) {
	cases := []struct {
		next, cur string
		deleted   bool
		want      bool
	}{
		{"5", "", false, true},
		{"5", "4", false, true},
		{"4", "5", false, false},
		{"5", "5", false, false},
		{"5", "5", true, true},
		{"10", "9", false, true},
		{"abc", "def", false, true},
	}
	for _, tc := range cases {
		if got := newer(tc.next, tc.cur, tc.deleted); got != tc.want {
			t.Errorf("newer(%q, %q, %v) = %v, want %v", tc.next, tc.cur, tc.deleted, got, tc.want)
		}
	}
}

func TestLeading(t *testing.T) {
	now := time.Unix(9000, 0)
	v := ClusterView{Self: "a", RenewDeadline: 7 * time.Second, LastRenewal: now, Lock: LockView{Lock: Lock{Holder: "a"}}}
	if !v.Leading(now.Add(7*time.Second - time.Nanosecond)) {
		t.Error("not leading inside the renew deadline")
	}
	if v.Leading(now.Add(7 * time.Second)) {
		t.Error("leading at the renew deadline")
	}
	v.LastRenewal = time.Time{}
	if v.Leading(now) {
		t.Error("leading a lock it never wrote (hand-over not yet renewed)")
	}
	v.LastRenewal, v.Lock.Holder = now, "b"
	if v.Leading(now) {
		t.Error("leading a lock held by b")
	}
}
