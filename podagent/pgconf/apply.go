package pgconf

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"syscall"
)

// File names inside a data directory.
const (
	confFile     = "postgresql.conf"
	autoConfFile = "postgresql.auto.conf"
	hbaFile      = "pg_hba.conf"
	// StandbySignal makes the server start as a standby.
	StandbySignal = "standby.signal"
)

// restartParams change only at a server restart (postmaster context in
// PostgreSQL 15). The list is a hint for the caller; the server's
// pg_settings.pending_restart is the authority.
var restartParams = []string{
	"archive_mode", "autovacuum_max_workers", "cluster_name", "dynamic_shared_memory_type",
	"hot_standby", "huge_pages", "listen_addresses", "logging_collector",
	"max_connections", "max_files_per_process", "max_locks_per_transaction",
	"max_logical_replication_workers", "max_pred_locks_per_transaction",
	"max_prepared_transactions", "max_replication_slots", "max_wal_senders",
	"max_worker_processes", "port", "recovery_target_timeline", "shared_buffers",
	"shared_memory_type", "shared_preload_libraries", "superuser_reserved_connections",
	"track_commit_timestamp", "unix_socket_directories", "unix_socket_group",
	"unix_socket_permissions", "wal_buffers", "wal_level", "wal_log_hints",
}

// Result says what Apply did.
type Result struct {
	// Changed is true when a file was written, renamed or removed. A
	// running server needs at least a reload to see the change.
	Changed bool
	// RestartNeeded names the parameters whose effective value in the
	// files changed and that PostgreSQL reads only at start, sorted. A
	// hint: values are compared as text ("128MB" and "16384" differ).
	RestartNeeded []string
	// Overridden names agent-owned parameters found in
	// postgresql.auto.conf (ALTER SYSTEM), which PostgreSQL reads after
	// postgresql.conf, so they win over the rendered values. Apply leaves
	// that file alone; the caller should warn.
	Overridden []string
}

// Apply renders m into dataDir: it moves initdb's postgresql.conf to
// postgresql.base.conf the first time, replaces postgresql.conf and
// pg_hba.conf atomically when their contents differ, and creates
// standby.signal for a standby or removes it for a primary. dataDir must
// be an initialized data directory (PG_VERSION present).
func Apply(dataDir string, m Member) (Result, error) {
	res, err := apply(dataDir, m)
	if err != nil {
		return Result{}, fmt.Errorf("apply %s: %w", dataDir, err)
	}
	return res, nil
}

func apply(dataDir string, m Member) (Result, error) {
	conf, hba, err := Render(m)
	if err != nil {
		return Result{}, err
	}
	o, err := dataDirOwner(dataDir)
	if err != nil {
		return Result{}, err
	}
	before, err := effectiveSettings(dataDir)
	if err != nil {
		return Result{}, err
	}
	var res Result
	steps := []func() (bool, error){
		func() (bool, error) { return adoptBaseConf(dataDir) },
		func() (bool, error) { return writeIfChanged(filepath.Join(dataDir, confFile), conf, o) },
		func() (bool, error) { return writeIfChanged(filepath.Join(dataDir, hbaFile), hba, o) },
		func() (bool, error) { return setSignal(filepath.Join(dataDir, StandbySignal), m.Standby != nil, o) },
	}
	for _, step := range steps {
		changed, err := step()
		if err != nil {
			return Result{}, err
		}
		res.Changed = res.Changed || changed
	}
	after, err := effectiveSettings(dataDir)
	if err != nil {
		return Result{}, err
	}
	res.RestartNeeded = restartNeeded(before, after)
	if res.Overridden, err = overridden(dataDir); err != nil {
		return Result{}, err
	}
	return res, nil
}

// owner is the data directory's owner, which Apply gives its files.
type owner struct{ uid, gid int }

func dataDirOwner(dataDir string) (owner, error) {
	if _, err := os.Stat(filepath.Join(dataDir, "PG_VERSION")); err != nil {
		return owner{}, fmt.Errorf("not an initialized data directory: %w", err)
	}
	fi, err := os.Stat(dataDir)
	if err != nil {
		return owner{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return owner{uid: -1, gid: -1}, nil
	}
	return owner{uid: int(st.Uid), gid: int(st.Gid)}, nil
}

// adoptBaseConf moves a postgresql.conf that is not the agent's (initdb's)
// to postgresql.base.conf, unless that exists already: the base file is
// kept from the first time on, and a later foreign postgresql.conf is
// simply replaced.
func adoptBaseConf(dataDir string) (bool, error) {
	confPath, basePath := filepath.Join(dataDir, confFile), filepath.Join(dataDir, BaseConf)
	conf, err := readOptional(confPath)
	if err != nil || conf == nil || bytes.HasPrefix(conf, []byte(Header)) {
		return false, err
	}
	if _, err := os.Stat(basePath); !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if err := os.Rename(confPath, basePath); err != nil {
		return false, err
	}
	return true, syncDir(dataDir)
}

// effectiveSettings reads the settings the files give: postgresql.conf,
// over the base file when postgresql.conf is the agent's (which includes
// it).
func effectiveSettings(dataDir string) (map[string]string, error) {
	conf, err := readOptional(filepath.Join(dataDir, confFile))
	if err != nil {
		return nil, err
	}
	settings := make(map[string]string)
	if bytes.HasPrefix(conf, []byte(Header)) {
		base, err := readOptional(filepath.Join(dataDir, BaseConf))
		if err != nil {
			return nil, err
		}
		settings = parseSettings(string(base))
	}
	maps.Copy(settings, parseSettings(string(conf)))
	return settings, nil
}

func restartNeeded(before, after map[string]string) []string {
	var out []string
	for _, name := range restartParams {
		b, hadB := before[name]
		a, hasA := after[name]
		if hadB != hasA || a != b {
			out = append(out, name)
		}
	}
	return out
}

// overridden lists agent-owned settings in postgresql.auto.conf.
func overridden(dataDir string) ([]string, error) {
	auto, err := readOptional(filepath.Join(dataDir, autoConfFile))
	if err != nil {
		return nil, err
	}
	var out []string
	for name := range parseSettings(string(auto)) {
		if IsOwned(name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// readOptional reads path; a missing file reads as nil.
func readOptional(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// ReplaceFile replaces the data directory's file name with content,
// atomically, owned by the data directory's owner: for the files Apply
// does not render, such as postgresql.auto.conf after a restore.
func ReplaceFile(dataDir, name string, content []byte) error {
	o, err := dataDirOwner(dataDir)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dataDir, name), content, o)
}

// writeIfChanged replaces path with content unless it already holds it.
func writeIfChanged(path string, content []byte, o owner) (bool, error) {
	old, err := readOptional(path)
	if err != nil {
		return false, err
	}
	if old != nil && bytes.Equal(old, content) {
		return false, nil
	}
	return true, writeAtomic(path, content, o)
}

// writeAtomic writes content to a temp file next to path, syncs it and
// renames it over path, so readers see the old or the new file, never a
// mix; then syncs the directory so the rename survives a crash.
func writeAtomic(path string, content []byte, o owner) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(content); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = chown(f.Name(), o); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// setSignal creates or removes an empty signal file.
func setSignal(path string, want bool, o owner) (bool, error) {
	_, err := os.Stat(path)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	switch {
	case want && !exists:
		return true, writeAtomic(path, nil, o)
	case !want && exists:
		if err := os.Remove(path); err != nil {
			return false, err
		}
		return true, syncDir(filepath.Dir(path))
	}
	return false, nil
}

// chown gives path to o unless the process already is o (the usual case:
// the agent runs as the server's user). Tests run as root and need it.
func chown(path string, o owner) error {
	if o.uid < 0 || o.uid == os.Geteuid() && o.gid == os.Getegid() {
		return nil
	}
	if err := os.Chown(path, o.uid, o.gid); err != nil {
		return fmt.Errorf("give %s to the data directory's owner: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, syscall.EINVAL) { // some file systems cannot sync directories
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
