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
//     and forwarded to Commands. They need "Authorization: Bearer <token>"
//     (scheme in any case), checked by one Authorizer in constant time —
//     the agent's own POST /failsafe goes through it too (Config.Unsafe).
//     A Server without a token is refused unless Config.Insecure says so
//     explicitly, and then warns at every start. Bodies are
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
// which the agent implements. It has no Basic auth.
//
// Connections are bounded: headers must arrive within ReadHeaderTimeout
// (5 s), a whole request within ReadTimeout, idle keep-alives are closed
// after IdleTimeout, and at most MaxConns (512) are open at once, so a few
// hundred slow clients neither exhaust the agent nor delay health checks;
// one address may hold MaxConnsPerHost (64) of them, so a single client
// cannot take them all
// (TestSlowlorisKeepsHealthFast). TLS is optional (CertFile, KeyFile; the
// pair is reloaded when the files change).
package api
