// Package memstore keeps a cluster's coordination records in memory: a
// leaderelect.Backend for fast unit tests and simulations.
//
// An API stands in for the Kubernetes API server; each member gets its own
// Client of it, so faults can be injected per member: Cut (partition from
// the API: calls fail with ErrUnavailable and watch events are withheld
// until healed), Forbid (an identity without rights), LoseNextWrite (the
// write lands but its response is lost, as with a timeout), and for the
// whole API SetDown (an outage).
//
// Watch events are delivered synchronously, in version order, before Put
// returns, which keeps simulations deterministic. Versions are decimal
// counters shared by every record, like etcd revisions.
package memstore
