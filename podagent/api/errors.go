package api

import (
	"context"
	"errors"
	"net/http"
)

// Error classes. Commands wrap their errors in one of these so the API
// answers with the status code Patroni gives for the same condition.
var (
	// ErrBadRequest: the request is malformed or contradicts itself (400).
	ErrBadRequest = errors.New("bad request")
	// ErrUnauthorized: a token is configured and the request lacks it (401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound: there is nothing to act on, e.g. no scheduled
	// switchover to cancel (404).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the request collides with another one, e.g. a restart
	// already scheduled or a lost compare-and-swap (409).
	ErrConflict = errors.New("conflict")
	// ErrPrecondition: the cluster is not in the state the request assumed,
	// e.g. the leader named is not the lock holder or the candidate cannot
	// be promoted (412, as Patroni).
	ErrPrecondition = errors.New("precondition failed")
	// ErrUnprocessable: well-formed but unusable, e.g. a schedule in the
	// past (422, as Patroni).
	ErrUnprocessable = errors.New("unprocessable")
	// ErrUnavailable: the member cannot do it now: restart conditions not
	// met, the coordination API unreachable, or no outcome before the
	// deadline (503).
	ErrUnavailable = errors.New("unavailable")
)

// StatusCode returns the HTTP status for err: the code of the class it
// wraps, 503 for an expired deadline, 500 otherwise.
func StatusCode(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrConflict):
		return http.StatusConflict
	case errors.Is(err, ErrPrecondition):
		return http.StatusPreconditionFailed
	case errors.Is(err, ErrUnprocessable):
		return http.StatusUnprocessableEntity
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// classOf is the inverse of StatusCode, for the client side.
func classOf(code int) error {
	switch code {
	case http.StatusBadRequest:
		return ErrBadRequest
	case http.StatusUnauthorized, http.StatusForbidden:
		return ErrUnauthorized
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	case http.StatusPreconditionFailed:
		return ErrPrecondition
	case http.StatusUnprocessableEntity:
		return ErrUnprocessable
	case http.StatusServiceUnavailable:
		return ErrUnavailable
	}
	return nil
}
