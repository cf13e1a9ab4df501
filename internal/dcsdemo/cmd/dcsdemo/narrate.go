package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
)

// narrate walks through the scenarios, timing each takeover on the wall
// clock as an operator would see it.
func narrate(ctx context.Context, log hclog.Logger, members map[string]*member, restart func(string) (*member, error)) error {
	leader, err := waitLeader(ctx, members, "")
	if err != nil {
		return err
	}
	ttl := members[leader].store.Options().TTL
	log.Info("first leader elected", "leader", leader)

	log.Info("scenario 1: the leader crashes (stops renewing, releases nothing)", "leader", leader, "ttl", ttl)
	crashed := leader
	_ = members[crashed].stop(ctx, false)
	members[crashed].store.Close()
	began := time.Now()
	if leader, err = waitLeader(ctx, members, crashed); err != nil {
		return err
	}
	log.Info("takeover after crash", "new_leader", leader, "after", time.Since(began).Round(time.Millisecond), "expected_about", ttl)

	m, err := restart(crashed)
	if err != nil {
		return err
	}
	members[crashed] = m
	log.Info("crashed member back as a follower", "member", crashed)

	log.Info("scenario 2: the leader stops gracefully and releases the lock", "leader", leader)
	stopped := leader
	began = time.Now()
	if err := members[stopped].stop(ctx, true); err != nil {
		return err
	}
	members[stopped].store.Close()
	if leader, err = waitLeader(ctx, members, stopped); err != nil {
		return err
	}
	log.Info("takeover after graceful stop", "new_leader", leader, "after", time.Since(began).Round(time.Millisecond))
	if m, err = restart(stopped); err != nil {
		return err
	}
	members[stopped] = m

	target := ""
	for name := range members {
		if name != leader {
			target = name
			break
		}
	}
	log.Info("scenario 3: switchover, direct hand-over of the lock", "from", leader, "to", target)
	if err := waitHeartbeat(ctx, members[leader], target); err != nil {
		return err
	}
	began = time.Now()
	if _, err := members[leader].store.HandOver(ctx, target); err != nil {
		return fmt.Errorf("hand over: %w", err)
	}
	if leader, err = waitLeader(ctx, members, ""); err != nil {
		return err
	}
	log.Info("hand-over done", "leader", leader, "after", time.Since(began).Round(time.Millisecond))
	v := members[leader].store.View()
	log.Info("final state", "leader", v.Lock.Holder, "epoch", v.Lock.Epoch, "members", v.MemberNames())
	return nil
}

// waitLeader waits until some member other than not counts itself leader.
func waitLeader(ctx context.Context, members map[string]*member, not string) (string, error) {
	deadline := time.After(60 * time.Second)
	for {
		for name, m := range members {
			if name != not && m.c.Leading() {
				return name, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-deadline:
			return "", fmt.Errorf("no leader within 60s")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func waitHeartbeat(ctx context.Context, m *member, of string) error {
	for {
		if _, ok := m.store.View().Members[of]; ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
