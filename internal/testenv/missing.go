package testenv

import (
	"errors"
	"fmt"
	"os"
	"testing"
)

// MissingError reports a prerequisite that is not installed or built, with
// the command that provides it. Start functions that have no testing.TB
// return it so callers can tell "not installed" from "broken".
type MissingError struct {
	What string // e.g. "kube-apiserver not built"
	Hint string // e.g. "run `make testbins`"
}

func (e *MissingError) Error() string { return e.What + ": " + e.Hint }

// Missing stops t because a prerequisite is absent. Outside CI it skips, so
// a developer without PostgreSQL can still run the rest; under CI=true it
// fails, because a suite that silently skips its real-part tests proves
// nothing.
func Missing(t testing.TB, what, hint string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: %s (CI=true: missing prerequisites fail instead of skipping)", what, hint)
	}
	t.Skipf("%s: %s", what, hint)
}

// check stops t on err: through Missing for a *MissingError, as a failure
// otherwise.
func check(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if m, ok := errors.AsType[*MissingError](err); ok {
		Missing(t, m.What, m.Hint)
	}
	t.Fatal(err)
}

func missingf(hint, format string, args ...any) *MissingError {
	return &MissingError{What: fmt.Sprintf(format, args...), Hint: hint}
}
