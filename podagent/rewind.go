package podagent

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// leaderCheckpointed checks that the leader's control file already shows
// a timeline newer than this data directory's. pg_rewind compares control
// file timelines: right after a promotion, before the new primary's first
// checkpoint, it would see "the same timeline" and report no rewind
// required for a former primary that has diverged (seen here: it then
// failed to stream with "requested starting point ... is not in this
// server's history"). The leader checkpoints after promoting; until then
// this step fails and the loop retries.
func (a *Agent) leaderCheckpointed(ctx context.Context, leader string) error {
	cd, err := a.pg.Controldata(ctx)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, a.connTo(leader, a.cfg.Superuser, "postgres"))
	if err != nil {
		return fmt.Errorf("ask %s for its checkpoint timeline: %w", leader, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var tl int64
	if err := conn.QueryRow(cctx, "SELECT timeline_id FROM pg_control_checkpoint()").Scan(&tl); err != nil {
		return fmt.Errorf("ask %s for its checkpoint timeline: %w", leader, err)
	}
	if tl <= int64(cd.Timeline) {
		return fmt.Errorf("leader %s has not checkpointed on its new timeline yet (control file timeline %d, ours %d)", leader, tl, cd.Timeline)
	}
	return nil
}
