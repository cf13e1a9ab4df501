// Package postmaster makes sure an old PostgreSQL server is gone before a
// new one starts on the same data directory: Kill takes down a postmaster
// with every process it forked, and WaitFree waits until nothing holds the
// old server's shared memory.
//
// Why: a postmaster refuses to start while a process is still attached to
// the System V shared memory segment that the previous server's
// postmaster.pid names on line 7 ("<key> <shmid>"): PostgreSQL 15's
// CreateLockFile reads that line and fails with "pre-existing shared memory
// block (key K, ID N) is still in use" when PGSharedMemoryIsInUse finds
// shm_nattch > 0 (shmctl IPC_STAT). Killing the postmaster's process group
// does not help: every postmaster child calls setsid() and leads its own
// group, and after the postmaster's death it exits on its own schedule. With
// group-only kills a restart 100 ms later failed in 6 to 15 of 20 runs.
//
// Invariants:
//   - WaitFree checks the same condition PostgreSQL checks (the segment of
//     line 7 has no attachments), read from /proc/sysvipc/shm, and returns
//     at once when there is no postmaster.pid, no segment line, or the
//     segment is gone.
//   - A zombie counts as gone: it has already released its memory, and
//     with it its attachment; an orphan reparented to a PID 1 that reaps
//     late stays a zombie for a while.
//   - Every wait is bounded by the caller's context and ends in an error
//     that names what still runs.
//
// What it deliberately does not do: it never removes a segment (ipcrm) or
// postmaster.pid, and WaitFree kills nothing: whether to kill an old
// server's orphans is the caller's decision.
package postmaster
