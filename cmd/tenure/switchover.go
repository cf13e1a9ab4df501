package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/api"
)

// switchoverFlags are the flags of switchover and failover.
type switchoverFlags struct {
	leader, candidate, scheduled string
	force                        bool
	wait                         time.Duration
}

func setupSwitchover(failover bool) func(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
	return func(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
		var f switchoverFlags
		if !failover {
			fs.StringVar(&f.leader, "leader", "", "the current leader (default: the lock holder)")
			fs.StringVar(&f.scheduled, "scheduled", "", "when to switch over, RFC 3339 with a zone (default now)")
		}
		fs.StringVar(&f.candidate, "candidate", "", "the member to promote")
		fs.BoolVar(&f.force, "force", false, "do not ask for confirmation")
		fs.DurationVar(&f.wait, "wait", 60*time.Second, "how long to wait for the new leader (0: do not wait)")
		return func(ctx context.Context, args []string) error {
			var req api.SwitchoverRequest
			st, err := c.openCluster(ctx, args, func() (err error) {
				req, err = f.request(failover)
				return err
			})
			if err != nil {
				return err
			}
			defer st.Close()
			return c.switchover(ctx, st, req, f)
		}
	}
}

// request checks the flags and turns them into the request.
func (f switchoverFlags) request(failover bool) (api.SwitchoverRequest, error) {
	if failover && f.candidate == "" {
		return api.SwitchoverRequest{}, usagef("failover needs --candidate")
	}
	req := api.SwitchoverRequest{Leader: f.leader, Candidate: f.candidate, Failover: failover}
	if f.scheduled != "" && f.scheduled != "now" {
		var err error
		if req.ScheduledAt, err = time.Parse(time.RFC3339, f.scheduled); err != nil {
			return api.SwitchoverRequest{}, usagef("--scheduled %q: want RFC 3339 with a zone, e.g. 2026-04-14T20:27:00+02:00", f.scheduled)
		}
	}
	if f.wait < 0 {
		return api.SwitchoverRequest{}, usagef("--wait must not be negative")
	}
	return req, nil
}

// switchover validates req against the cluster in st with the REST API's
// rules, records it as the cluster's switchover intent, and waits for the
// lock to move.
func (c *cli) switchover(ctx context.Context, st *leaderelect.Store, req api.SwitchoverRequest, f switchoverFlags) error {
	v := st.View()
	before := v.Lock.Holder
	if !req.Failover && req.Leader == "" {
		if before == "" {
			return errors.New("no member holds the leader lock; use failover")
		}
		req.Leader = before
	}
	req, err := api.ValidateSwitchover(v, req, c.now())
	if err != nil {
		return err
	}
	what := "switchover"
	if req.Failover {
		what = "failover"
	}
	if err := c.recordIntent(ctx, st, req, before, what, f.force); err != nil {
		return err
	}
	switch {
	case !req.ScheduledAt.IsZero():
		fmt.Fprintf(c.out, "%s scheduled at %s\n", capital(what), req.ScheduledAt.Format(time.RFC3339))
		return nil
	case f.wait == 0:
		fmt.Fprintf(c.out, "%s requested; not waiting for the outcome\n", capital(what))
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, f.wait)
	defer cancel()
	holder, err := c.waitNewLeader(wctx, st, before)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	fmt.Fprintln(c.out, outcome(req, holder))
	writeList(c.out, st.View())
	return nil
}

// recordIntent asks for confirmation and writes req as the cluster's
// switchover intent.
func (c *cli) recordIntent(ctx context.Context, st *leaderelect.Store, req api.SwitchoverRequest, before, what string, force bool) error {
	question := fmt.Sprintf("Are you sure you want to %s cluster %s", what, st.View().Cluster)
	if before != "" {
		question += ", demoting current leader " + before
	}
	if err := c.confirm(force, question+"?"); err != nil {
		return err
	}
	intent := leaderelect.Switchover{From: req.Leader, To: req.Candidate, ScheduledAt: req.ScheduledAt, Failover: req.Failover}
	if _, err := st.Update(ctx, func(s *leaderelect.State) error {
		next := intent
		s.Switchover = &next
		return nil
	}); err != nil {
		return fmt.Errorf("record %s: %w", what, err)
	}
	return nil
}

func capital(s string) string { return string(s[0]-'a'+'A') + s[1:] }

func outcome(req api.SwitchoverRequest, holder string) string {
	verb := "switched"
	if req.Failover {
		verb = "failed"
	}
	if req.Candidate != "" && holder != req.Candidate {
		return fmt.Sprintf("%s over to %q instead of %q", capital(verb), holder, req.Candidate)
	}
	return fmt.Sprintf("Successfully %s over to %q", verb, holder)
}

// waitNewLeader watches the cluster until a member other than before holds
// the lock, and returns it. It gives up when ctx ends, or when the intent
// has been withdrawn (the agent refused or gave up) for withdrawGrace with
// no new holder.
func (c *cli) waitNewLeader(ctx context.Context, st *leaderelect.Store, before string) (string, error) {
	tick := time.NewTicker(c.poll)
	defer tick.Stop()
	var withdrawn time.Time
	for {
		v := st.View()
		if h := v.Lock.Holder; h != "" && h != before {
			return h, nil
		}
		if v.State.Switchover == nil {
			if withdrawn.IsZero() {
				withdrawn = time.Now()
			} else if time.Since(withdrawn) >= c.withdrawGrace {
				return "", fmt.Errorf("failed: the intent was withdrawn and %s still holds the lock", orAny(before))
			}
		} else {
			withdrawn = time.Time{}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no new leader yet (%w); the intent stays recorded for the agents", ctx.Err())
		case <-st.Changes():
		case <-tick.C:
		}
	}
}
