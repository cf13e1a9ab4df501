package schedule_test

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // CRON_TZ cases must not depend on the machine's zone files

	"github.com/tenure-pg/tenure/walarchive/schedule"
)

// day is 2026-11-23 at hh:mm:ss UTC; negative or >23 hours roll over.
func day(hh, mm, ss int) time.Time { return time.Date(2026, 11, 23, hh, mm, ss, 0, time.UTC) }

func mustParse(t *testing.T, spec string) schedule.Schedule {
	t.Helper()
	s, err := schedule.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDecide(t *testing.T) {
	const daily = "@daily"
	plus5 := time.FixedZone("UTC+5", 5*60*60)
	tests := []struct {
		name   string
		spec   string
		obs    schedule.Observation
		due    bool
		next   time.Time
		reason string // a substring the reason must hold
	}{
		{
			name: "no backup: nothing before the first slot after the runner started",
			spec: daily, obs: schedule.Observation{Since: day(10, 0, 0), Now: day(12, 0, 0)},
			next: day(24, 0, 0), reason: "first slot after the runner started",
		},
		{
			name: "no backup: due once the first slot after the start has passed",
			spec: daily, obs: schedule.Observation{Since: day(-14, 0, 0), Now: day(12, 0, 0)},
			due: true, next: day(0, 0, 0),
		},
		{
			name: "no backup with immediate: due at once",
			spec: daily, obs: schedule.Observation{Since: day(10, 0, 0), Immediate: true, Now: day(12, 0, 0)},
			due: true, next: day(12, 0, 0), reason: "immediate",
		},
		{
			name: "immediate does nothing once a backup exists",
			spec: daily, obs: schedule.Observation{Newest: day(0, 0, 5), Since: day(10, 0, 0), Immediate: true, Now: day(12, 0, 0)},
			next: day(24, 0, 0),
		},
		{
			name: "a backup in the current slot (another leader's) covers it",
			spec: daily, obs: schedule.Observation{Newest: day(0, 0, 5), Since: day(11, 0, 0), Now: day(12, 0, 0)},
			next: day(24, 0, 0), reason: "newest backup started at 2026-11-23T00:00:05Z",
		},
		{
			name: "a backup starting exactly at the slot covers it",
			spec: daily, obs: schedule.Observation{Newest: day(0, 0, 0), Now: day(0, 0, 1)},
			next: day(24, 0, 0),
		},
		{
			name: "a backup just before a slot does not cover it",
			spec: daily, obs: schedule.Observation{Newest: day(-1, 59, 0), Now: day(0, 0, 30)},
			due: true, next: day(0, 0, 0),
		},
		{
			name: "the slot has passed without a backup",
			spec: daily, obs: schedule.Observation{Newest: day(-24, 0, 7), Now: day(12, 0, 0)},
			due: true, next: day(0, 0, 0), reason: "slot 2026-11-23T00:00:00Z is due",
		},
		{
			name: "missed slots: one backup is due for all of them",
			spec: daily, obs: schedule.Observation{Newest: day(-96, 0, 7), Now: day(12, 0, 0)},
			due: true, next: day(-72, 0, 0), reason: "4 slots passed without a backup, caught up with one",
		},
		{
			name: "after the catch-up nothing is due until the next slot",
			spec: daily, obs: schedule.Observation{Newest: day(12, 0, 1), Now: day(12, 30, 0)},
			next: day(24, 0, 0),
		},
		{
			name: "clock skew: a backup a few seconds in the future still covers its slot",
			spec: daily, obs: schedule.Observation{Newest: day(24, 0, 1), Now: day(23, 59, 58)},
			next: day(48, 0, 0),
		},
		{
			name: "a backup stamped years ahead does not stop the schedule",
			spec: daily, obs: schedule.Observation{Newest: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Now: day(12, 0, 0)},
			next: day(24, 0, 0), reason: "a clock is wrong",
		},
		{
			name: "a backup in the future never makes one due",
			spec: "0 * * * *", obs: schedule.Observation{Newest: day(13, 0, 0), Now: day(12, 0, 0)},
			next: day(13, 0, 0),
		},
		{
			name: "@every counts from the newest backup: not yet",
			spec: "@every 6h", obs: schedule.Observation{Newest: day(5, 30, 10), Now: day(11, 30, 9)},
			next: day(11, 30, 10),
		},
		{
			name: "@every counts from the newest backup: due",
			spec: "@every 6h", obs: schedule.Observation{Newest: day(5, 30, 10), Now: day(11, 30, 10)},
			due: true, next: day(11, 30, 10),
		},
		{
			name: "CRON_TZ: 03:00 in Berlin is 02:00 UTC in winter",
			spec: "CRON_TZ=Europe/Berlin 0 3 * * *", obs: schedule.Observation{Newest: day(-22, 0, 5), Now: day(1, 59, 0)},
			next: day(2, 0, 0),
		},
		{
			name: "without a zone the spec is UTC, whatever the zone of the times",
			spec: "0 3 * * *", obs: schedule.Observation{Newest: day(-21, 0, 5).In(plus5), Now: day(2, 59, 0).In(plus5)},
			next: day(3, 0, 0),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := schedule.Decide(mustParse(t, tt.spec), tt.obs)
			if d.Due != tt.due || !d.Next.Equal(tt.next) {
				t.Errorf("due %v next %s, want due %v next %s (reason %q)", d.Due, d.Next, tt.due, tt.next, d.Reason)
			}
			if d.Reason == "" || !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", d.Reason, tt.reason)
			}
		})
	}
}

// TestDecideCatchUpOnce walks a day minute by minute with the agent down
// from 01:30 to 05:10 and takes a backup whenever Decide says so: every
// hourly slot gets exactly one, except the missed ones, which get one
// between them.
func TestDecideCatchUpOnce(t *testing.T) {
	s := mustParse(t, "0 * * * *")
	var taken []time.Time
	since := day(0, 0, 30)
	for now := since; now.Before(day(8, 1, 0)); now = now.Add(time.Minute) {
		if !now.Before(day(1, 30, 0)) && now.Before(day(5, 10, 0)) {
			continue // agent down
		}
		var newest time.Time
		if len(taken) > 0 {
			newest = taken[len(taken)-1]
		}
		if schedule.Decide(s, schedule.Observation{Newest: newest, Since: since, Now: now}).Due {
			taken = append(taken, now.Add(5*time.Second)) // backups start a little after the decision
		}
	}
	var got []string
	for _, b := range taken {
		got = append(got, b.Format("15:04:05"))
	}
	want := "01:00:35 05:10:35 06:00:35 07:00:35 08:00:35"
	if strings.Join(got, " ") != want {
		t.Errorf("backups at %v, want %s", got, want)
	}
}
