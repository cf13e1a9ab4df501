// Package ha is the agent's decision core: a pure, deterministic function
// from one observation (own postgres, the cluster view from leaderelect,
// peers' REST status, settings, now) to an ordered list of actions, each
// with a human-readable reason. It reads no clock, environment, disk or
// network; the agent's executor performs the actions in order and stops at
// the first that fails, then observes and decides again.
//
// The rules it keeps (DESIGN.md, "HA: what must hold"):
//
//   - One writable primary. A member acts as primary only while it holds a
//     fresh lock (leaderelect.ClusterView.Leading) or, with failsafe mode,
//     while a majority of members confirmed it over REST within the renew
//     deadline. Once neither holds it demotes. A member that sees another
//     holder demotes at once.
//   - Promotion by WAL position. When the lock is free or expired, a member
//     races only if it is eligible (running, not nofailover, in the
//     published synchronous set in synchronous mode), no reachable peer
//     ranks ahead of it (received, then replayed LSN; ties by failover
//     priority, then name) and it is within maximum_lag_on_failover of the
//     best live member. The dead leader's last LSN is never the yardstick.
//   - Routing fences. The winner removes the primary role label from every
//     other pod before it promotes, and labels itself after.
//   - The synchronous set is published before postgres relies on it when
//     it grows and after when it shrinks, so every standby that may hold an
//     acknowledged commit is always in the published set.
//   - No member serves a history the cluster does not have. Every member
//     on a timeline older than the leader's is set against the leader's
//     timeline history (Fork): past the point where its timeline ended
//     there, it is stopped and rewound, re-cloned by policy, or left to a
//     human; a former primary is rewound in any case.
//
// It deliberately does not retry, sleep or talk to anything: waiting is an
// action (Wait) whose reason says what for.
package ha
