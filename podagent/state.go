package podagent

import (
	"context"
	"fmt"
	"slices"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/ha"
	"github.com/tenure-pg/tenure/podagent/pgconf"
)

func (a *Agent) syncStep(ctx context.Context, act ha.Action) error {
	switch act.Kind {
	case ha.PublishSync:
		_, err := a.store.Update(ctx, func(s *leaderelect.State) error {
			s.Sync = leaderelect.SyncState{Leader: a.cfg.Member, Members: act.Members}
			return nil
		})
		return err
	case ha.ApplySync:
		a.mu.Lock()
		a.mem.syncMembers = slices.Clone(act.Members)
		a.mu.Unlock()
		if _, err := a.render(nil); err != nil {
			return err
		}
		if err := a.pg.Reload(ctx); err != nil {
			return err
		}
		st, err := a.pg.Status(ctx)
		if err != nil {
			return fmt.Errorf("read position after applying synchronous standbys: %w", err)
		}
		a.mu.Lock()
		a.mem.syncAppliedLSN = uint64(st.FlushLSN)
		a.mu.Unlock()
		return nil
	case ha.CreateSlots:
		for _, m := range act.Members {
			if err := a.pg.EnsureSlot(ctx, pgconf.SlotName(m)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (a *Agent) stateStep(ctx context.Context, o ha.Observation, act ha.Action) error {
	switch act.Kind {
	case ha.ClearSwitchover:
		return a.clearSwitchover(ctx)
	case ha.RecordHistory:
		st, err := a.pg.Status(ctx)
		if err != nil {
			return err
		}
		_, err = a.store.Update(ctx, func(s *leaderelect.State) error {
			s.History = append(s.History, leaderelect.HistoryEntry{
				Timeline: int64(st.Timeline), LSN: uint64(st.FlushLSN), Reason: act.Reason,
				At: a.clock.Now().UTC(), Leader: a.cfg.Member,
			})
			if n := len(s.History); n > maxHistory {
				s.History = s.History[n-maxHistory:]
			}
			return nil
		})
		return err
	}
	return nil
}

// maxHistory bounds the history kept in the cluster record (a ConfigMap
// holds at most 1 MiB).
const maxHistory = 100

func (a *Agent) clearSwitchover(ctx context.Context) error {
	_, err := a.store.Update(ctx, func(s *leaderelect.State) error {
		s.Switchover = nil
		return nil
	})
	return err
}
