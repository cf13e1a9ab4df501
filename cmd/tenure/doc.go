// Command tenure is the command-line tool for Tenure clusters, patronictl's
// counterpart. Installed as kubectl-tenure it also runs as `kubectl tenure`.
//
//	tenure list [cluster] [-o json]
//	tenure switchover [cluster] [--leader X] [--candidate Y] [--scheduled T] [--force] [--wait 60s]
//	tenure failover [cluster] --candidate Y [--force] [--wait 60s]
//	tenure pause|resume [cluster]
//	tenure history [cluster] [-o json]
//	tenure edit-config [cluster] [--set key=value]... [--pg name=value]... [--force]
//	tenure restart|reinit [cluster] member... [--token-file F] [--ca-file F] [--force]
//
// Every command takes --kubeconfig, -n/--namespace and -c/--cluster (or the
// cluster as first argument); without a kubeconfig it uses KUBECONFIG,
// ~/.kube/config or the in-cluster service account, like kubectl.
//
// It reads the cluster through a leaderelect.Store on the Kubernetes API,
// under the observer name "tenure-cli", which never publishes a heartbeat
// and never takes the lock. Switchover, failover, pause and edit-config only
// record intent and configuration in the cluster state; the agents carry
// them out, and the CLI waits for the outcome by watching the lease.
// Switchover requests are checked with the REST API's own rules
// (api.ValidateSwitchover) before they are written. restart and reinit call
// the member's REST API, because only the member can act on its postgres;
// the agents require their bearer token, found in --token-file, then
// $TENURE_API_TOKEN, $TENURE_API_TOKEN_FILE, ~/.config/tenure/token (see
// apiToken), and HTTPS agents are verified against --ca-file or
// $TENURE_API_CA_FILE. edit-config checks a change with api.ValidateConfig,
// the check PATCH /config and the agent's renderer use, so what it writes
// always renders.
//
// Exit codes: 0 done, 1 failed (refused, timed out, API error), 2 usage
// error (bad flags or arguments; nothing was changed).
//
// It deliberately does not: take or hand over the lock itself (that would
// bypass the agent's fencing), talk to postgres, or install anything.
package main
