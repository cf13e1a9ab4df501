// Package testenv starts the real parts tests run against — etcd with
// kube-apiserver, PostgreSQL 15, and TCP proxies that partition one member
// from the API — and stops them again when the test ends.
//
// Why real parts: client-go's fake clientset does not enforce resourceVersion
// on Update, has no authentication or RBAC and never times out, so the
// properties the HA design depends on (optimistic concurrency, 401/403/409 and
// outages told apart, fencing under partition) cannot fail against it.
//
// Invariants:
//   - Everything binds to loopback only: 127.0.0.1 for etcd and the apiserver,
//     and a distinct 127.0.0.x per proxy or Postgres instance (allocated once
//     per process, never reused), so members look like separate hosts.
//     Linux routes all of 127.0.0.0/8 to lo, so this needs no setup.
//   - Ports are picked at random, so test packages run in parallel.
//   - Each test that shares an apiserver works in its own namespace
//     (Kube.Namespace), so tests sharing one apiserver can run in parallel.
//   - Child processes get a parent-death signal and their own process group:
//     a crashed test binary leaves no etcd or postgres behind. Postgres
//     backends lead their own groups, so Postgres.Kill takes them down by
//     pid (package postmaster) and returns once none holds the server's
//     shared memory, like a container kill: the next Start never meets it.
//   - A missing prerequisite skips the test outside CI with a message saying
//     what to install, and fails it under CI=true (see Missing): nothing skips
//     in CI.
//
// Binaries: etcd and kube-apiserver are built from the Go module proxy by
// tools/install.sh into a versioned cache outside the repository; the versions
// are pinned only in tools/{etcd,kube}/go.mod. TENURE_ETCD and
// TENURE_KUBE_APISERVER override the paths; TENURE_PG_BIN overrides
// /usr/lib/postgresql/15/bin.
//
// What it deliberately does not do: there is no kube-controller-manager,
// scheduler or kubelet. Pods are stored but never run; namespaces deleted at
// cleanup stay Terminating (the namespace controller is absent), which costs
// nothing because each apiserver's etcd lives in a temp dir. The ServiceAccount
// admission plugin is disabled so Pods can be created without the token
// controller.
package testenv
