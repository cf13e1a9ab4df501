// Package gate is the commit gate: a synchronous standby of the member's
// own postgres, run inside the agent, that confirms WAL only while the
// agent holds a fresh lease.
//
// Why: the renew-deadline guard stops a primary whose lease went stale,
// but only while the agent runs. A frozen agent (SIGSTOP, a deadlock, a
// long pause of its process alone) cannot stop anything, and its postgres
// kept accepting writes after another member was promoted: in the fault
// campaign of issue 13, 1 492–1 918 acknowledged writes per 20 s freeze
// were discarded by the later pg_rewind in asynchronous mode.
//
// How: the gate's application_name, Name, is always the first entry of
// synchronous_standby_names (FIRST n+1 ("tenure_gate", <sync standbys>)),
// so postgres waits for the gate on every commit, in every synchronous
// mode. The gate streams WAL from the local server over the replication
// protocol, keeps nothing, and reports each received position as written,
// flushed and applied — but only when Leading says the lease is fresh on
// the agent's monotonic clock at that instant. Whatever stops the agent
// stops the gate with it: commits then wait instead of landing on a
// zombie. A killed agent closes the gate's connection (and postgres dies
// with it through Pdeathsig); a frozen one simply never answers. On a
// thaw the gate asks Leading first: a lease older than the renew deadline
// is never fresh, so nothing waiting is released before the guard stops
// postgres.
//
// Names of pods are DNS labels, which cannot contain '_': Name can never
// be a member.
//
// What it does not do: it does not hold WAL (no slot; it starts at the
// server's current position), it is no replica, and it cannot stop a
// client that opts out of waiting with synchronous_commit = local or off
// for its own transactions (as with any synchronous standby). A commit
// whose confirmation was already in the kernel's buffers when the whole
// container froze is released when it thaws: that commit reached WAL
// before the freeze, like any asynchronous write not yet replicated.
//
// Cost: one local round trip per commit (see make bench-gate).
package gate
