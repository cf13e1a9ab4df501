package leaderelect

import "errors"

// Error classes. Backends wrap every API error in exactly one of the first
// four so that callers branch on the class, never on message text.
var (
	// ErrConflict: a compare-and-swap lost (HTTP 409, or create of a record
	// that exists). Re-read and decide again.
	ErrConflict = errors.New("lost race")
	// ErrUnavailable: the API could not be reached or did not answer in
	// time (timeouts, connection refused, 5xx, 429). The outcome of a write
	// that failed this way is unknown unless the Store proved otherwise.
	ErrUnavailable = errors.New("coordination API unavailable")
	// ErrForbidden: the identity is not allowed (HTTP 401 or 403). Retrying
	// will not help; fix RBAC or credentials.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: the record does not exist.
	ErrNotFound = errors.New("not found")

	// ErrHeld: the lock is held by another member whose lease has not
	// expired as observed from here. Not an API error: nothing was written.
	ErrHeld = errors.New("lock held by another member")
	// ErrNotHolder: the caller does not hold the lock (renew, release or
	// hand-over by a member that lost it). A leader that gets this must stop
	// acting as primary at once.
	ErrNotHolder = errors.New("not the lock holder")
	// ErrAlreadyInitialized: the initialize record was set by someone else.
	ErrAlreadyInitialized = errors.New("cluster already initialized")
	// ErrInvalid: bad input (empty names, bad durations, unknown member).
	// Nothing was written.
	ErrInvalid = errors.New("invalid argument")
)
