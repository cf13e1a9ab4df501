//go:build tools

// Package tools pins controller-gen, which generates the PostgresCluster
// CRD and deepcopy code (make generate). It is its own module so the
// product module does not depend on controller-tools.
package tools

import _ "sigs.k8s.io/controller-tools/cmd/controller-gen"
