package pgctl

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenure-pg/tenure/internal/lsn"
	"github.com/tenure-pg/tenure/podagent/gate"
)

// Status is what the running server says about its role and WAL.
type Status struct {
	InRecovery bool
	// Timeline: on a primary, the timeline of the WAL being written; on a
	// standby, the WAL receiver's timeline, or the last restartpoint's
	// when nothing streams.
	Timeline uint32
	// WriteLSN and FlushLSN are the primary's current and flushed WAL
	// positions; zero on a standby.
	WriteLSN, FlushLSN lsn.LSN
	// ReceivedLSN and ReplayedLSN are the standby's last received
	// (flushed) and replayed positions; zero on a primary, and
	// ReceivedLSN is zero on a standby that never streamed.
	ReceivedLSN, ReplayedLSN lsn.LSN
	ReplayPaused             bool
	// Receiver is the WAL receiver; nil when none runs.
	Receiver *WALReceiver
	// Replication lists the connected standbys (pg_stat_replication),
	// sorted by application name.
	Replication []Replica
	// PendingRestart: a changed parameter waits for a restart.
	PendingRestart   bool
	SyncStandbyNames string
	PostmasterStart  time.Time
	ServerVersionNum int
	// Archiver is pg_stat_archiver: what archive_command achieved, whoever
	// ran it (the agent's WAL service or a standalone wal-push); zero on a
	// standby, which does not archive.
	Archiver Archiver
}

// Archiver is the pg_stat_archiver row.
type Archiver struct {
	Archived, Failed uint64
	LastArchived     string
	LastArchivedAt   time.Time
	LastFailed       string
	LastFailedAt     time.Time
}

// WALPosition is how far this member's WAL goes, for ranking failover
// candidates: a primary's flushed position; a standby's received or
// replayed position, whichever is further. Both count because a standby
// that replays WAL it already has (copied by pg_rewind or
// pg_basebackup, or fetched by restore_command) reports the streaming
// start as received until new WAL arrives — seen here for 15 s after a
// rewind, until the next standby snapshot record.
func (s Status) WALPosition() lsn.LSN {
	if !s.InRecovery {
		return s.FlushLSN
	}
	return max(s.ReceivedLSN, s.ReplayedLSN)
}

// WALReceiver is a standby's pg_stat_wal_receiver row.
type WALReceiver struct {
	Status     string // "streaming", "waiting", "starting", ...
	Timeline   uint32 // received_tli
	SenderHost string
	SenderPort int
	SlotName   string
	FlushedLSN lsn.LSN
}

// Replica is one pg_stat_replication row.
type Replica struct {
	ApplicationName string
	ClientAddr      string // empty for a unix-socket connection
	State           string // "streaming", "catchup", "startup", ...
	SyncState       string // "async", "sync", "quorum", "potential"
	SentLSN         lsn.LSN
	WriteLSN        lsn.LSN
	FlushLSN        lsn.LSN
	ReplayLSN       lsn.LSN
}

// Status queries the running server over one connection.
func (in *Instance) Status(ctx context.Context) (Status, error) {
	var st Status
	err := in.withConn(ctx, func(c *pgx.Conn) error {
		steps := []func(context.Context, *pgx.Conn, *Status) error{serverStatus, walPositions, walReceiver, replication, archiver}
		for _, step := range steps {
			if err := step(ctx, c, &st); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Status{}, fmt.Errorf("status of %s: %w", in.cfg.DataDir, err)
	}
	return st, nil
}

func serverStatus(ctx context.Context, c *pgx.Conn, st *Status) error {
	return c.QueryRow(ctx, `SELECT pg_is_in_recovery(), current_setting('server_version_num')::int,
		pg_postmaster_start_time(), current_setting('synchronous_standby_names'),
		EXISTS (SELECT 1 FROM pg_settings WHERE pending_restart)`).
		Scan(&st.InRecovery, &st.ServerVersionNum, &st.PostmasterStart, &st.SyncStandbyNames, &st.PendingRestart)
}

func walPositions(ctx context.Context, c *pgx.Conn, st *Status) error {
	if !st.InRecovery {
		var write, flush, walfile string
		err := c.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text, pg_current_wal_flush_lsn()::text,
			pg_walfile_name(pg_current_wal_lsn())`).Scan(&write, &flush, &walfile)
		if err != nil {
			return err
		}
		if len(walfile) < 8 {
			return fmt.Errorf("WAL file name %q", walfile)
		}
		tli, err := strconv.ParseUint(walfile[:8], 16, 32)
		st.Timeline = uint32(tli)
		return firstErr(err, parseLSN(write, &st.WriteLSN), parseLSN(flush, &st.FlushLSN))
	}
	var received, replayed *string
	var checkpointTLI int64
	err := c.QueryRow(ctx, `SELECT pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text,
		pg_is_wal_replay_paused(), (SELECT timeline_id FROM pg_control_checkpoint())`).
		Scan(&received, &replayed, &st.ReplayPaused, &checkpointTLI)
	if err != nil {
		return err
	}
	st.Timeline = uint32(checkpointTLI)
	return firstErr(parseOptionalLSN(received, &st.ReceivedLSN), parseOptionalLSN(replayed, &st.ReplayedLSN))
}

func walReceiver(ctx context.Context, c *pgx.Conn, st *Status) error {
	var r WALReceiver
	var tli int64
	var host, slot, flushed *string
	var port *int32
	err := c.QueryRow(ctx, `SELECT status, received_tli, sender_host, sender_port, slot_name, flushed_lsn::text
		FROM pg_stat_wal_receiver`).Scan(&r.Status, &tli, &host, &port, &slot, &flushed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	r.Timeline, r.SenderHost, r.SlotName = uint32(tli), deref(host), deref(slot)
	if port != nil {
		r.SenderPort = int(*port)
	}
	if r.Timeline > 0 && st.InRecovery {
		st.Timeline = r.Timeline
	}
	st.Receiver = &r
	return parseOptionalLSN(flushed, &r.FlushedLSN)
}

func replication(ctx context.Context, c *pgx.Conn, st *Status) error {
	rows, _ := c.Query(ctx, `SELECT coalesce(application_name, ''), coalesce(host(client_addr), ''),
		coalesce(state, ''), coalesce(sync_state, ''), sent_lsn::text, write_lsn::text, flush_lsn::text, replay_lsn::text
		FROM pg_stat_replication WHERE application_name IS DISTINCT FROM $1
		ORDER BY application_name, pid`, gate.Name) // the agent's own commit gate is no replica
	var err error
	st.Replication, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Replica, error) {
		var r Replica
		var sent, write, flush, replay *string
		if err := row.Scan(&r.ApplicationName, &r.ClientAddr, &r.State, &r.SyncState, &sent, &write, &flush, &replay); err != nil {
			return r, err
		}
		return r, firstErr(parseOptionalLSN(sent, &r.SentLSN), parseOptionalLSN(write, &r.WriteLSN),
			parseOptionalLSN(flush, &r.FlushLSN), parseOptionalLSN(replay, &r.ReplayLSN))
	})
	return err
}

func archiver(ctx context.Context, c *pgx.Conn, st *Status) error {
	if st.InRecovery {
		return nil // a standby archives nothing (archive_mode = on)
	}
	a := &st.Archiver
	var archivedAt, failedAt *time.Time
	err := c.QueryRow(ctx, `SELECT archived_count, coalesce(last_archived_wal, ''), last_archived_time,
		failed_count, coalesce(last_failed_wal, ''), last_failed_time FROM pg_stat_archiver`).
		Scan(&a.Archived, &a.LastArchived, &archivedAt, &a.Failed, &a.LastFailed, &failedAt)
	if archivedAt != nil {
		a.LastArchivedAt = *archivedAt
	}
	if failedAt != nil {
		a.LastFailedAt = *failedAt
	}
	return err
}

func parseLSN(s string, dst *lsn.LSN) (err error) {
	*dst, err = lsn.Parse(s)
	return err
}

// parseOptionalLSN reads a nullable pg_lsn; NULL is zero ("unknown").
func parseOptionalLSN(s *string, dst *lsn.LSN) error {
	if s == nil {
		*dst = 0
		return nil
	}
	return parseLSN(*s, dst)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
