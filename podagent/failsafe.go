package podagent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/tenure-pg/tenure/podagent/ha"
)

// failsafeRequest is the body of POST /failsafe: a leader that cannot
// reach the API asks its peers to confirm it.
type failsafeRequest struct {
	Leader string `json:"leader"`
	Epoch  int64  `json:"epoch"`
}

// failsafeRound asks every peer to confirm this member as leader. With a
// majority of all members (itself included) it may keep acting as primary
// until RenewDeadline after the round was sent.
func (a *Agent) failsafeRound(ctx context.Context) {
	v := a.store.View()
	sent := a.clock.Now()
	body, _ := json.Marshal(failsafeRequest{Leader: a.cfg.Member, Epoch: v.Lock.Epoch})
	acks := 1 // itself
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, m := range v.Members {
		if name == a.cfg.Member || m.APIURL == "" {
			continue
		}
		wg.Go(func() {
			if a.askFailsafe(ctx, m.APIURL, body) == nil {
				mu.Lock()
				acks++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	members := max(len(v.Members), 1)
	if _, ok := v.Members[a.cfg.Member]; !ok {
		members++
	}
	if acks*2 > members {
		a.mu.Lock()
		a.mem.failsafeConfirmed = sent
		a.mu.Unlock()
		a.log.Info("failsafe: majority confirmed leadership while the API is unreachable", "acks", acks, "members", members)
		return
	}
	a.log.Warn("failsafe: no majority", "acks", acks, "members", members)
}

func (a *Agent) askFailsafe(ctx context.Context, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/failsafe", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if tok := a.apiToken(); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("failsafe refused: %s", resp.Status)
	}
	return nil
}

// serveFailsafe answers a peer's failsafe request (see ha.GrantFailsafe).
// It is served as POST only, behind the REST API's authorizer (see
// UnsafeEndpoints), like every other endpoint that changes something.
func (a *Agent) serveFailsafe(w http.ResponseWriter, r *http.Request) {
	var req failsafeRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		http.Error(w, "bad failsafe request: "+err.Error(), http.StatusBadRequest)
		return
	}
	pctx, cancel := context.WithTimeout(r.Context(), 500*time.Millisecond)
	reachable := a.store.Probe(pctx) == nil
	cancel()
	if !ha.GrantFailsafe(a.store.View(), req.Leader, req.Epoch, reachable) {
		http.Error(w, "not confirmed", http.StatusConflict)
		return
	}
	a.mu.Lock()
	a.mem.failsafeGranted = a.clock.Now()
	a.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}
