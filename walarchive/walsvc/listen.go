package walsvc

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"
)

// SocketName is the socket's path relative to the data directory, which
// is the working directory of archive_command and restore_command, so the
// subcommands dial it relative and never meet the 107-byte limit of unix
// socket paths. It sits in pg_wal under a "pgsql_tmp" prefix because
// pg_rewind lists every file of the source's data directory and copies
// what it does not exclude: a socket there fails the rewind (reading a
// socket is ENXIO), while paths containing "/pgsql_tmp" are skipped.
// pg_basebackup never sends pg_wal's contents.
const SocketName = "pg_wal/pgsql_tmp.tenure-wal.sock"

// spoolName is the prefetch spool, relative to the data directory; the
// same prefix keeps it out of pg_rewind (which would otherwise copy the
// source's spool and delete ours) and pg_basebackup. PostgreSQL ignores
// entries of pg_wal that are not WAL file names; WAL-G keeps its prefetch
// spool in pg_wal too (.wal-g/prefetch).
const spoolName = "pg_wal/pgsql_tmp.tenure-prefetch"

// maxSocketPath is sizeof(sockaddr_un.sun_path) minus the NUL on Linux.
const maxSocketPath = 107

// SocketPath is where the server for the data directory pgdata listens.
// With pgdata "" it is SocketName, relative to the working directory.
func SocketPath(pgdata string) string {
	return filepath.Join(pgdata, SocketName)
}

// ErrInUse: another server already answers on the socket.
var ErrInUse = errors.New("wal service socket in use")

// Listen listens on SocketPath(pgdata) with mode 0600, first removing a
// socket file left by a server that died without closing it. It fails
// with ErrInUse when a live server answers there, rather than stealing
// the path from it.
func Listen(pgdata string) (net.Listener, error) {
	path := SocketPath(pgdata)
	if abs, err := filepath.Abs(path); err == nil && len(abs) > maxSocketPath {
		return nil, fmt.Errorf("listen %s: path is %d bytes, unix sockets allow %d: use a shorter data directory path",
			abs, len(abs), maxSocketPath)
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	// pg_wal is 0700 (postgres checks it), so the moment between bind and
	// chmod exposes nothing; the chmod matters when pg_wal is a symlink
	// to a more open directory.
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	return l, nil
}

// removeStale deletes a socket file nobody answers on. It refuses to
// delete anything that is not a socket.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listen %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("listen %s: exists and is not a socket (%v)", path, fi.Mode().Type())
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("listen %s: %w", path, ErrInUse)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("listen %s: remove stale socket: %w", path, err)
	}
	return nil
}
