// Package storetest is the contract every leaderelect backend must keep,
// as a test suite. memstore runs it in memory; kubestore runs it against a
// real kube-apiserver. Clocks are fake in both, so expiry is tested exactly
// (one millisecond before TTL: held; at TTL: free) even over a real API.
package storetest
