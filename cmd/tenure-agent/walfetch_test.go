package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenure-pg/tenure/walarchive/codec"
	"github.com/tenure-pg/tenure/walarchive/layout"
	"github.com/tenure-pg/tenure/walarchive/restore"
	"github.com/tenure-pg/tenure/walarchive/wal"
)

// TestWALFetchNeverFakesTheEnd: a corrupt object (and, by the same path,
// an unreachable store) is retried, then aborts archive recovery with a
// status above 125, and on a standby answers 1 at once; only a missing
// object is "not in the archive" during archive recovery.
func TestWALFetchNeverFakesTheEnd(t *testing.T) {
	pgdata, archive := t.TempDir(), t.TempDir()
	arch := layout.Archive{Cluster: "c", UID: "u", Major: 15}
	cfg := wal.Config{Store: wal.StoreFS, FSRoot: archive, Archive: arch, SegmentSize: 1 << 20,
		FetchRetry: wal.Duration(700 * time.Millisecond)}.Default()
	cfgPath := filepath.Join(t.TempDir(), "source.json")
	if err := cfg.Save(cfgPath); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(pgdata, "pg_wal"), 0o700); err != nil {
		t.Fatal(err)
	}
	name := "000000010000000000000002"
	seg := filepath.Join(pgdata, "pg_wal", name)
	if err := os.WriteFile(seg, bytes.Repeat([]byte{7}, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(pgdata)
	t.Setenv("TENURE_ARCHIVE_CONFIG", "")
	if code := run([]string{"wal-push", "--config", cfgPath, "pg_wal/" + name}, new(bytes.Buffer)); code != exitOK {
		t.Fatalf("push: exit %d", code)
	}
	// Flip one byte in the middle of the stored object.
	obj := filepath.Join(archive, filepath.FromSlash(arch.WAL(name)))
	b, err := os.ReadFile(obj)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(obj, b, 0o600); err != nil {
		t.Fatal(err)
	}
	fetch := func(t *testing.T, file string) (int, string, time.Duration) {
		var stderr bytes.Buffer
		began := time.Now()
		code := run([]string{"wal-fetch", "--config", cfgPath, file, "pg_wal/RECOVERYXLOG"}, &stderr)
		return code, stderr.String(), time.Since(began)
	}
	t.Run("archive recovery aborts on a corrupt object", func(t *testing.T) {
		if err := os.WriteFile("PG_VERSION", []byte("15\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, took := fetch(t, name)
		if note, err := os.ReadFile(restore.AbortFile); err != nil || !strings.Contains(string(note), name) {
			t.Errorf("abort note %q (%v): want why %s could not be fetched", note, err, name)
		}
		if code != exitAbort || code <= 125 {
			t.Errorf("exit %d, want %d (above 125: postgres aborts recovery); stderr:\n%s", code, exitAbort, out)
		}
		if !strings.Contains(out, "retrying") || !strings.Contains(out, "gave up after") || !strings.Contains(out, "corrupt") {
			t.Errorf("stderr should show the retries and why:\n%s", out)
		}
		if took < 700*time.Millisecond {
			t.Errorf("gave up after %v, before fetchRetry", took)
		}
		if _, err := os.Stat("pg_wal/RECOVERYXLOG"); !os.IsNotExist(err) {
			t.Errorf("a corrupt object left a file behind: %v", err)
		}
	})
	t.Run("archive recovery: missing object is the end", func(t *testing.T) {
		if code, out, _ := fetch(t, "000000010000000000000003"); code != exitFailed {
			t.Errorf("exit %d, want %d; stderr:\n%s", code, exitFailed, out)
		}
	})
	t.Run("standby asks again later", func(t *testing.T) {
		if err := os.WriteFile(standbySignal, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(standbySignal)
		code, out, _ := fetch(t, name)
		if code != exitFailed {
			t.Errorf("exit %d, want %d (standby mode: postgres retries, never aborts); stderr:\n%s", code, exitFailed, out)
		}
		if strings.Contains(out, "retrying") {
			t.Errorf("a standby should ask once and let postgres retry:\n%s", out)
		}
	})
}

func TestFetchExit(t *testing.T) {
	outage := errors.New("dial tcp 127.0.0.1:9000: connect: connection refused")
	for _, tc := range []struct {
		name    string
		err     error
		standby bool
		want    int
	}{
		{"fetched", nil, false, exitOK},
		{"not archived", wal.ErrNotArchived, false, exitFailed},
		{"outage in archive recovery", outage, false, exitAbort},
		{"corrupt in archive recovery", codec.ErrChecksum, false, exitAbort},
		{"unusable config in archive recovery", errUsage, false, exitAbort},
		{"outage on a standby", outage, true, exitFailed},
		{"not archived on a standby", wal.ErrNotArchived, true, exitFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fetchExit(tc.err, tc.standby); got != tc.want {
				t.Errorf("fetchExit = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestRetrier drives the backoff on a fake clock.
func TestRetrier(t *testing.T) {
	outage := errors.New("connection refused")
	run := func(budget time.Duration, results ...error) (error, []time.Duration, int) {
		now := time.Unix(0, 0)
		var waits []time.Duration
		calls := 0
		r := retrier{budget: budget, now: func() time.Time { return now },
			sleep:  func(_ context.Context, d time.Duration) error { now = now.Add(d); return nil },
			report: func(_ int, _ error, d time.Duration) { waits = append(waits, d) }}
		err := r.run(context.Background(), func(context.Context) error {
			calls++
			if calls <= len(results) {
				return results[calls-1]
			}
			return outage
		})
		return err, waits, calls
	}
	t.Run("outage past the budget", func(t *testing.T) {
		err, waits, calls := run(10 * time.Second)
		want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 2250 * time.Millisecond}
		if !errors.Is(err, outage) || calls != 7 || !slices.Equal(waits, want) {
			t.Errorf("err %v after %d calls, waits %v; want the outage after 7 calls, waits %v", err, calls, waits, want)
		}
	})
	t.Run("outage that passes", func(t *testing.T) {
		if err, _, calls := run(10*time.Second, outage, outage, nil); err != nil || calls != 3 {
			t.Errorf("err %v after %d calls, want success after 3", err, calls)
		}
	})
	t.Run("not archived is an answer", func(t *testing.T) {
		if err, _, calls := run(10*time.Second, wal.ErrNotArchived); !errors.Is(err, wal.ErrNotArchived) || calls != 1 {
			t.Errorf("err %v after %d calls", err, calls)
		}
	})
	t.Run("no budget: one attempt", func(t *testing.T) {
		if err, waits, calls := run(0); !errors.Is(err, outage) || calls != 1 || len(waits) != 0 {
			t.Errorf("err %v after %d calls, waits %v", err, calls, waits)
		}
	})
}
