package pgctl

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// DirState is what a data directory holds.
type DirState int

const (
	// DirMissing: the directory does not exist.
	DirMissing DirState = iota
	// DirEmpty: it exists and holds nothing.
	DirEmpty
	// DirInitialized: it holds PG_VERSION (initdb, pg_basebackup or a
	// restore put a cluster there).
	DirInitialized
	// DirOther: it holds files but no PG_VERSION (a volume's lost+found,
	// a half-finished copy, someone else's data). Never touch it
	// without a human.
	DirOther
)

func (s DirState) String() string {
	switch s {
	case DirMissing:
		return "missing"
	case DirEmpty:
		return "empty"
	case DirInitialized:
		return "initialized"
	case DirOther:
		return "other"
	}
	return fmt.Sprintf("DirState(%d)", int(s))
}

// DataDirState inspects the data directory.
func (in *Instance) DataDirState() (DirState, error) {
	entries, err := os.ReadDir(in.cfg.DataDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return DirMissing, nil
	case err != nil:
		return 0, fmt.Errorf("inspect %s: %w", in.cfg.DataDir, err)
	case len(entries) == 0:
		return DirEmpty, nil
	}
	if _, err := os.Stat(filepath.Join(in.cfg.DataDir, "PG_VERSION")); err == nil {
		return DirInitialized, nil
	}
	return DirOther, nil
}

func (in *Instance) requireInitialized() error {
	st, err := in.DataDirState()
	if err != nil {
		return err
	}
	if st != DirInitialized {
		return fmt.Errorf("%w (it is %s)", ErrNotInitialized, st)
	}
	return nil
}

// requireEmpty returns the state (DirMissing or DirEmpty), or ErrNotEmpty.
func (in *Instance) requireEmpty() (DirState, error) {
	st, err := in.DataDirState()
	if err != nil {
		return st, err
	}
	if st != DirMissing && st != DirEmpty {
		return st, fmt.Errorf("%w (it is %s)", ErrNotEmpty, st)
	}
	return st, nil
}

// InitOptions configure initdb. The zero value gives UTF8, C.UTF-8, data
// checksums, trusted local connections and, over TCP, scram-sha-256 when a
// password is given or reject otherwise (pgconf replaces pg_hba.conf
// before the server listens on the network anyway).
type InitOptions struct {
	// SuperuserPassword sets Config.Superuser's password through a
	// temporary file (never on a command line, never logged). initdb
	// needs one for password authentication over TCP.
	SuperuserPassword string
	// NoDataChecksums turns data checksums off. They are on by default:
	// they catch storage corruption, and pg_rewind needs them or
	// wal_log_hints.
	NoDataChecksums bool
	Encoding        string // default "UTF8"
	Locale          string // default "C.UTF-8"
	AuthLocal       string // default "trust"
	AuthHost        string // default "scram-sha-256" with a password, else "reject"
	// NoSync skips initdb's fsync (about 0.5 s): for tests only.
	NoSync bool
}

// InitDB creates a cluster in the data directory, which must be missing or
// empty (ErrNotEmpty otherwise: nothing is changed).
func (in *Instance) InitDB(ctx context.Context, o InitOptions) error {
	in.lifecycle.Lock()
	defer in.lifecycle.Unlock()
	began := time.Now()
	if _, err := in.requireEmpty(); err != nil {
		return fmt.Errorf("initdb %s: %w", in.cfg.DataDir, err)
	}
	args, cleanup, err := in.initdbArgs(o)
	if err != nil {
		return fmt.Errorf("initdb %s: %w", in.cfg.DataDir, err)
	}
	defer cleanup()
	if _, err := in.runTool(ctx, "initdb", args...); err != nil {
		return fmt.Errorf("initdb %s: %w", in.cfg.DataDir, err)
	}
	in.log.Info("initdb done", "checksums", !o.NoDataChecksums, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

func (in *Instance) initdbArgs(o InitOptions) (args []string, cleanup func(), err error) {
	def := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	authHost := def(o.AuthHost, "reject")
	if o.SuperuserPassword != "" {
		authHost = def(o.AuthHost, "scram-sha-256")
	}
	args = []string{"-D", in.cfg.DataDir, "-U", in.cfg.Superuser,
		"-E", def(o.Encoding, "UTF8"), "--locale=" + def(o.Locale, "C.UTF-8"),
		"--auth-local=" + def(o.AuthLocal, "trust"), "--auth-host=" + authHost, "--no-instructions"}
	if !o.NoDataChecksums {
		args = append(args, "--data-checksums")
	}
	if o.NoSync {
		args = append(args, "--no-sync")
	}
	cleanup = func() {}
	if o.SuperuserPassword != "" {
		path, err := in.writePasswordFile(o.SuperuserPassword)
		if err != nil {
			return nil, nil, err
		}
		args = append(args, "--pwfile="+path)
		cleanup = func() { _ = os.Remove(path) }
	}
	return args, cleanup, nil
}

// writePasswordFile writes pw to a 0600 file next to the data directory,
// readable by the configured user.
func (in *Instance) writePasswordFile(pw string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(in.cfg.DataDir), ".initdb-pw-*")
	if err != nil {
		return "", fmt.Errorf("password file: %w", err)
	}
	_, err = f.WriteString(pw + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && in.cfg.Credential != nil {
		err = os.Chown(f.Name(), int(in.cfg.Credential.Uid), int(in.cfg.Credential.Gid))
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("password file: %w", err)
	}
	return f.Name(), nil
}

// Wipe removes everything inside the data directory, keeping the directory
// itself (a volume's mount point, its ownership and mode). Only for a
// caller that decided the data is worthless (a re-clone after
// ErrRewindImpossible, policy permitting): pgctl never wipes on its own.
// It refuses while a server runs.
func (in *Instance) Wipe(ctx context.Context) error {
	in.lifecycle.Lock()
	defer in.lifecycle.Unlock()
	if err := in.refuseRunning(); err != nil {
		return fmt.Errorf("wipe %s: %w", in.cfg.DataDir, err)
	}
	in.log.Warn("wiping data directory")
	if err := removeContents(ctx, in.cfg.DataDir); err != nil {
		return fmt.Errorf("wipe %s: %w", in.cfg.DataDir, err)
	}
	return nil
}

// removeContents removes the entries of dir; a missing dir is fine.
func removeContents(ctx context.Context, dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
