//go:build tools

// Package kube pins the Kubernetes control-plane binaries that the test
// environment builds from the Go module proxy. It is its own module so that
// k8s.io/kubernetes never enters the product's dependency graph.
package kube

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
