// Package e2e runs tenure-agent for real: each member is the agent binary
// running as the postgres user with its own PostgreSQL 15 on its own
// 127.0.0.x address, a real kube-apiserver reached through a per-member
// proxy (so one member can be cut off), a ServiceAccount holding only the
// rights the agent needs, and a Pod object the agent labels. Tests kill,
// stop, partition and switch over members and check what clients see.
package e2e
