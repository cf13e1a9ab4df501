package testenv

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// serverCredential returns the credential to run PostgreSQL binaries with:
// nil (the current user) unless running as root, which postgres refuses;
// then the "postgres" system user that Debian's package creates.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, missingf(pgInstallHint+", or run the tests as a non-root user",
			"running as root and no postgres system user to run PostgreSQL as (%v)", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres user uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres user gid %q: %w", u.Gid, err)
	}
	// Empty Groups drops root's supplementary groups in the child.
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// chown gives path to the server user when running as root.
func (p *Postgres) chown(path string) error {
	if p.cred == nil {
		return nil
	}
	if err := os.Chown(path, int(p.cred.Uid), int(p.cred.Gid)); err != nil {
		return fmt.Errorf("chown %s to postgres: %w", path, err)
	}
	return nil
}

// writeOwned writes a file the server must read, owned by its user.
func (p *Postgres) writeOwned(path, content string) error {
	if err := writeFile(path, []byte(content)); err != nil {
		return err
	}
	return p.chown(path)
}
