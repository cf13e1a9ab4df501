package testenv

import (
	"context"
	"fmt"
	"time"
)

// pollInterval is how often readiness is probed. etcd is up in ~0.3 s and the
// apiserver in ~3 s, so 50 ms polls add little latency and little load.
const pollInterval = 50 * time.Millisecond

// startTimeout bounds a start. The apiserver needs ~3 s on an idle machine;
// the margin is for two CPUs shared with parallel test packages.
const startTimeout = 90 * time.Second

// waitReady polls probe until it succeeds, the process exits (an error with
// its log tail) or startTimeout passes. Polling rather than sleeping a fixed
// time keeps starts as fast as the machine allows.
func waitReady(ctx context.Context, p *process, probe func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		probeCtx, probeCancel := context.WithTimeout(ctx, 2*time.Second)
		err := probe(probeCtx)
		probeCancel()
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return p.exitError()
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %v (last probe: %v); log %s ends:\n%s",
				p.spec.name, startTimeout, err, p.spec.logPath, logTail(p.spec.logPath))
		case <-tick.C:
		}
	}
}
