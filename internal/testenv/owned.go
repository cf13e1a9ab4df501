package testenv

import (
	"os"
	"syscall"
	"testing"
)

// ServerCredential is the user PostgreSQL binaries (and agents that run
// them) must run as: nil when the tests do not run as root, else the
// "postgres" system user.
func ServerCredential(t testing.TB) *syscall.Credential {
	t.Helper()
	cred, err := serverCredential()
	check(t, err)
	return cred
}

// OwnedDir returns a fresh directory that the server user owns, under the
// system temp dir (whose parents it can traverse, unlike t.TempDir's),
// removed when t ends.
func OwnedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tenure-owned-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if cred := ServerCredential(t); cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
