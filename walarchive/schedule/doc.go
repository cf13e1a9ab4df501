// Package schedule takes base backups on a cron schedule and applies the
// retention policy after each one. The tenure-agent runs a Runner on every
// member; only the member whose Source answers ok (the leader, with a
// writable primary) backs up.
//
// Decide is pure: the schedule, the start time of the newest completed
// backup in the catalogue, when the runner started, Immediate and now go
// in; whether a backup is due, the slot it serves and a reason come out,
// with a named table test per outcome. The Runner reads the catalogue,
// calls Decide and acts; beyond "is this member the source" it adds only
// error handling (backoff).
//
// Invariants:
//   - The last backup is read from the catalogue, not remembered. A new
//     leader after a failover sees the backup the old one took for the
//     current slot and does not take a second; a manual `tenure backup
//     create` counts the same way.
//   - A slot is "covered" by any completed backup that started at or after
//     it. A backup is due when a slot has passed since the newest backup
//     started (Next(newest) <= now). Missed slots (the agent was down for
//     three nights) are caught up with one backup, not one per slot: the
//     catch-up backup starts after all of them.
//   - With no completed backup at all, the first backup is taken at the
//     first slot after the runner started, as CloudNativePG's
//     ScheduledBackup does by default: a brand-new cluster is often being
//     loaded, and a backup taken during the load is obsolete an hour later
//     while costing the load its I/O. Config.Immediate asks for a backup
//     at once instead (CloudNativePG's `immediate: true`); it matters only
//     while the catalogue holds no completed backup. Without any backup
//     the archived WAL restores nothing, so pick Immediate when a cluster
//     starts with its data already in place (clone, restore).
//   - A backup that starts more than MaxFutureSkew after now (a member's
//     clock was wrong, or ours jumped back) is trusted only up to now: the
//     schedule resumes at the next slot instead of waiting for the future
//     start time, which could be years away. A smaller skew is trusted as
//     is, so a backup stamped two seconds ahead by the old leader still
//     covers its slot.
//   - One backup at a time: Run is a single loop and refuses to run twice.
//   - A failure (catalogue unreadable, backup failed, retention failed) is
//     logged, counted and retried after an exponential backoff from
//     RetryMin to RetryMax; it never ends Run. A backup that fails after
//     an hour of streaming is not restarted a second later.
//   - The runner re-reads the catalogue only when its last decision said a
//     slot is due, after it took a backup, and when this member becomes
//     the source: other members can only add newer backups, which only
//     push the next slot later, so a cached "not before" is never late.
//     While waiting it wakes at least every Recheck (ten seconds) to notice
//     leadership changes, without touching the store.
//
// Schedules are five-field cron expressions (minute hour day-of-month month
// day-of-week) as in crontab and Kubernetes CronJob, or descriptors
// (@hourly, @daily, @weekly, @monthly, @yearly, @every <duration>), parsed
// by github.com/robfig/cron/v3. A library because cron's rules are easy to
// get subtly wrong (day-of-month OR day-of-week when both are restricted,
// month lengths, leap days, DST gaps) and robfig/cron is what Kubernetes
// CronJob and CloudNativePG parse schedules with, so users get the
// semantics they already know. Times are UTC unless the spec starts with
// CRON_TZ=<zone> (which needs the zone database in the image). @every D
// means D after the newest backup started. Schedules that fire more than
// once a minute are refused: backup IDs have one-second resolution and a
// base backup is not a per-second job.
//
// What it deliberately does not do: no choosing which member backs up (the
// agent's Source says), no cancelling a running backup when leadership is
// lost (the agent cancels Run's context; a backup of a demoted primary
// that keeps running is still a valid replica backup), no backup
// timeout, and no WAL archiving (package wal).
package schedule
