// Package api is the agent's REST API on port 8008: Patroni 4's paths and
// status codes, so HAProxy checks, Kubernetes probes and scripts written for
// Patroni keep working against Tenure unchanged.
//
// It serves three kinds of request:
//
//   - Health checks (/primary, /replica?lag=16MB, /read-only, /sync, /async,
//     /health, /liveness, /readiness and their aliases): GET answers with the
//     status document, HEAD and OPTIONS with the status code only (HAProxy's
//     "option httpchk" sends OPTIONS and reads nothing else).
//   - Reports (/patroni, /cluster, /history, /config, /metrics), built from
//     one Snapshot taken by the agent once per HA loop. /patroni carries a
//     "tenure" object with the exact WAL positions and lease epoch that peers
//     rank failover candidates by; Fetch reads it.
//   - Commands (POST /switchover, /failover, /restart, /reload,
//     /reinitialize; PATCH and PUT /config; DELETE /switchover), checked here
//     and forwarded to Commands. With a token configured they need
//     "Authorization: Bearer <token>", compared in constant time. Bodies are
//     decoded strictly (unknown fields and trailing data are errors, 64 KiB at
//     most); a body that does not decode is answered 400 and nothing is
//     forwarded.
//
// Invariants: a handler never blocks on the HA loop or takes its locks; it
// reads the last Snapshot (a copy). /primary is 200 only while the Snapshot
// says the member holds a fresh lease (ClusterView.Leading) and runs a
// primary, so routing follows the lease, not postgres alone.
//
// What it deliberately does not do: it decides nothing about HA. It does not
// pick a switchover candidate, restart postgres or write the cluster state;
// it validates the request against the Snapshot (the same rules as Patroni's
// API, in ValidateSwitchover, shared with the CLI) and hands it to Commands,
// which the agent implements. It does not serve TLS (terminate it in front,
// or add it in the agent's main when needed) and has no Basic auth.
package api
