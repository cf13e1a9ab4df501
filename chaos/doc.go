// Package chaos runs tenure-agent the way users run it, as the entrypoint
// of a container from images/postgres, and breaks those containers the
// way nodes break: SIGKILL of a whole container (docker kill), a frozen
// container (docker pause) for longer than the leader TTL.
//
// It is its own module so the product module does not depend on
// testcontainers-go and the Docker client.
//
// The Kubernetes API is the cached etcd + kube-apiserver binaries run on
// the host by internal/testenv (no kubelet: members are plain containers,
// each with a ServiceAccount token holding only the agent's Role). The
// apiserver listens on loopback, which containers cannot reach, so each
// member gets its own TCP proxy (testenv.NewProxyOn) listening on the
// Docker network's gateway address: the member's path to the API, which
// a test can cut alone while clients and replicas still reach its
// PostgreSQL.
//
// Every test keeps a ledger: an id counts as acknowledged only when its
// COMMIT returned success, and each test ends by checking that every
// acknowledged id is on the primary.
//
// Outside CI the tests skip when Docker or the image is missing (make
// images builds it); under CI=true they build the image themselves
// (images/build.sh) and never skip.
package chaos
