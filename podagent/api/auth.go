package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// Authorizer checks the bearer token of every request that changes
// something: the API's commands and the agent's peer endpoint
// (/failsafe) alike, so there is one comparison to get right.
//
// Both sides are hashed first and compared with crypto/subtle, so the
// time taken does not depend on how much of the token an attacker got
// right, nor on its length. The scheme is matched case-insensitively, as
// RFC 7235 §2.1 says auth schemes are.
type Authorizer struct {
	// insecure is true when no token is configured: only with
	// Config.Insecure (--api-insecure) does that mean "allow".
	insecure bool
	tokenID  [sha256.Size]byte
}

// NewAuthorizer returns the authorizer for token; an empty token means
// every request is allowed (the caller must have been told so explicitly,
// see Config.Insecure).
func NewAuthorizer(token string) Authorizer {
	return Authorizer{insecure: token == "", tokenID: sha256.Sum256([]byte(token))}
}

// Check returns nil when r carries the token (or none is configured),
// else an ErrUnauthorized error that says what was wrong, never the token.
func (a Authorizer) Check(r *http.Request) error {
	if a.insecure {
		return nil
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return fmt.Errorf("%w: bearer token required", ErrUnauthorized)
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	if subtle.ConstantTimeCompare(got[:], a.tokenID[:]) != 1 {
		return fmt.Errorf("%w: wrong token", ErrUnauthorized)
	}
	return nil
}

// Wrap serves h only to authorized requests; others get 401 with a
// WWW-Authenticate challenge, and one log line (never the token).
func (a Authorizer) Wrap(name string, log hclog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.Check(r); err != nil {
			log.Warn("rejected unauthorized request", "command", name, "remote", r.RemoteAddr, "reason", err)
			w.Header().Set("WWW-Authenticate", `Bearer realm="tenure"`)
			writeError(w, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}
