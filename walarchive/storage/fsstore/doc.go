// Package fsstore is a storage.Store on a mounted filesystem: an NFS export
// or a PersistentVolume shared by the cluster's pods. An object is a plain
// file at root/key.
//
// Invariants:
//   - Readers never see a partial object: Put writes a temporary file in the
//     key's own directory (same filesystem, so rename is atomic), fsyncs it,
//     renames it over the key and fsyncs the directory. A crash leaves either
//     the old object or the new one, plus at worst a dot-named temporary file
//     that List ignores (keys cannot start with '.').
//   - Create is atomic: it links the fsynced temporary file to the key, and
//     link(2) refuses an existing name. Where hard links are unsupported
//     (some FUSE and SMB mounts) it uses renameat2(RENAME_NOREPLACE); where
//     neither works it fails rather than fall back to check-then-rename.
//     Over NFSv3 a retransmitted LINK whose first reply was lost reports
//     EEXIST although our own file landed; the WAL layer's compare-on-
//     conflict step (same bytes: success) covers that case.
//   - Directories created for a key are fsynced into their parents, so an
//     acknowledged Put survives a power loss with its path; Delete removes
//     directories it leaves empty, so retention does not leave thousands of
//     empty base-backup directories for List to walk.
//   - List walks directories in key order (a directory sorts as its name
//     plus '/', because "a/b-c" < "a/b/1"), descending only into
//     directories that can hold matching keys, and never loads more than one
//     directory listing per level at a time.
//
// New refuses a root that does not exist: an NFS mount that failed would
// otherwise send the archive to the container's ephemeral disk. Make the
// root a directory below the mount point, not the mount point itself, so
// lost+found never appears as an object.
package fsstore
