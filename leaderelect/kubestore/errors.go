package kubestore

import (
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/tenure-pg/tenure/leaderelect"
)

// classify wraps err in its leaderelect class, keeping the original for
// the message.
func classify(err error) error {
	var class error
	switch {
	case err == nil:
		return nil
	case apierrors.IsConflict(err), apierrors.IsAlreadyExists(err):
		class = leaderelect.ErrConflict
	case apierrors.IsNotFound(err):
		class = leaderelect.ErrNotFound
	case apierrors.IsUnauthorized(err), apierrors.IsForbidden(err):
		class = leaderelect.ErrForbidden
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err):
		class = leaderelect.ErrInvalid
	default:
		// Timeouts, refused or reset connections, 5xx and 429: the API is
		// not answering, and a write's outcome is unknown.
		class = leaderelect.ErrUnavailable
	}
	return fmt.Errorf("%w: %w", class, err)
}
