// Package retention decides which base backups and WAL files an archive
// no longer needs, and deletes them.
//
// Decide is pure: the catalogue, the WAL listing, the policy and now go
// in; a Plan with a reason per backup comes out, and every outcome has a
// named table test. Execute carries a Plan out and decides nothing.
//
// Invariants Decide keeps:
//   - With no policy (neither a count nor a window) it refuses: a
//     forgotten setting must not mean "delete everything".
//   - The newest completed backup is always kept, whatever the window, so
//     an archive whose backups stopped a month ago is not emptied.
//   - WAL is deleted only below the start segment of the oldest kept
//     backup. Every kept backup restores from its start LSN onward, and
//     LSNs only grow across timelines, so nothing below it is read by any
//     restore the kept backups allow. With no completed backup, no WAL is
//     deleted: there is no anchor to measure "old" against.
//   - Timeline history files are never deleted. They are a hundred bytes
//     each, and recovery with recovery_target_timeline = latest probes for
//     them; losing one makes a later timeline unreachable.
//   - An incomplete backup is deleted only once its newest object is
//     older than the grace period (default 24 h), so a backup in progress
//     (whose parts appear as each upload completes) is left alone.
//
// Execute deletes backups before WAL, oldest first: a crash half-way
// leaves extra WAL (harmless, removed next run), never a kept backup
// without its WAL. Deletes are idempotent, so a run can simply be
// repeated.
package retention
