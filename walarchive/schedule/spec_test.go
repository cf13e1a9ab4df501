package schedule_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/walarchive/retention"
	"github.com/tenure-pg/tenure/walarchive/schedule"
)

func TestParse(t *testing.T) {
	from := day(12, 0, 0)
	for _, tt := range []struct {
		spec string
		next time.Time // first slot after from
	}{
		{"30 2 * * *", day(26, 30, 0)},
		{" 0 */6 * * * ", day(18, 0, 0)},
		{"@daily", day(24, 0, 0)},
		{"@hourly", day(13, 0, 0)},
		{"@weekly", day(6*24, 0, 0)}, // Sunday 2026-11-29
		{"@every 2h", day(14, 0, 0)},
		{"0 0 29 2 *", time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"CRON_TZ=UTC 0 3 * * mon", day(7*24+3, 0, 0)}, // Monday 2026-11-30
	} {
		t.Run(tt.spec, func(t *testing.T) {
			s := mustParse(t, tt.spec)
			if got := s.Next(from); !got.Equal(tt.next) {
				t.Errorf("Next(%s) = %s, want %s", from, got, tt.next)
			}
			if s.String() != strings.TrimSpace(tt.spec) {
				t.Errorf("String() = %q", s.String())
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tt := range []struct {
		spec, why string
	}{
		{"", "empty"},
		{"nightly", "expected exactly 5 fields"},
		{"0 3 * *", "expected exactly 5 fields"},
		{"0 0 3 * * *", "expected exactly 5 fields"}, // six fields: seconds are not accepted
		{"61 * * * *", "above maximum"},
		{"0 0 30 2 *", "never fires"},
		{"@every 10s", "at most once a minute"},
		{"@fortnightly", "unrecognized descriptor"},
		{"CRON_TZ=UTC", ""}, // panics inside robfig/cron v3.0.1
		{"CRON_TZ=Nowhere/City 0 3 * * *", "bad location"},
	} {
		t.Run(tt.spec, func(t *testing.T) {
			_, err := schedule.Parse(tt.spec)
			if !errors.Is(err, schedule.ErrSchedule) {
				t.Fatalf("error %v, want ErrSchedule", err)
			}
			if !strings.Contains(err.Error(), tt.why) || (tt.spec != "" && !strings.Contains(err.Error(), `"`+tt.spec+`"`)) {
				t.Errorf("error %q: want it to name the spec and say %q", err, tt.why)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0 3 * * *", "@every 1h", "CRON_TZ=UTC", "TZ=", "*/0 * * * *", "1-0 * * * *", "@every -1m"} {
		f.Add(s)
	}
	from := day(12, 0, 0)
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := schedule.Parse(spec)
		if err != nil {
			return
		}
		n := s.Next(from)
		if !n.After(from) {
			t.Fatalf("%q: Next(%s) = %s, not after", spec, from, n)
		}
		if m := s.Next(n); !m.IsZero() && m.Sub(n) < time.Minute {
			t.Fatalf("%q: slots %s and %s less than a minute apart", spec, n, m)
		}
	})
}

func TestConfigValidate(t *testing.T) {
	t.Run("valid", func(t *testing.T) {
		c := schedule.Config{Schedule: "0 3 * * *", Retention: &retention.Policy{KeepLast: 7}, MaxRateKB: 1024}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no retention keeps everything", func(t *testing.T) {
		if err := (schedule.Config{Schedule: "@daily"}).Validate(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("every problem at once", func(t *testing.T) {
		c := schedule.Config{Schedule: "0 25 * * *", Retention: &retention.Policy{}, MaxRateKB: 5}
		err := c.Validate()
		if !errors.Is(err, schedule.ErrSchedule) || !errors.Is(err, retention.ErrNoPolicy) {
			t.Errorf("error %v: want ErrSchedule and ErrNoPolicy", err)
		}
		for _, want := range []string{`"0 25 * * *"`, "retention:", "max rate 5 kB/s"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v: want it to contain %q", err, want)
			}
		}
	})
}
