package testenv

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"
)

// shared is the apiserver a test binary's tests share, started by the first
// Shared call: one start (~3 s) per package instead of one per test.
var shared struct {
	once    sync.Once
	kube    *Kube
	err     error
	elapsed time.Duration
}

// Shared returns the package-wide Kube, starting it on first use. Tests that
// use it must isolate themselves with Kube.Namespace and must not stop or
// restart it (use StartKube for that). The package's TestMain must call
// Main, which stops it after the tests.
func Shared(t testing.TB) *Kube {
	t.Helper()
	shared.once.Do(func() {
		began := time.Now()
		shared.kube, shared.err = NewKube(context.Background(), "", nil)
		shared.elapsed = time.Since(began)
		if shared.err == nil {
			t.Logf("testenv: shared kube-apiserver at %s started in %v", shared.kube.Host(), shared.elapsed.Round(time.Millisecond))
		}
	})
	check(t, shared.err)
	return shared.kube
}

// Main runs the tests and then stops the shared apiserver, if one started,
// and removes the agent binary, if one was built (AgentBinary).
// Use it as the whole TestMain: func TestMain(m *testing.M) { testenv.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	if shared.kube != nil {
		shared.kube.Stop()
	}
	if agentBin.dir != "" {
		os.RemoveAll(agentBin.dir)
	}
	os.Exit(code)
}
