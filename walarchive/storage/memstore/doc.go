// Package memstore is an in-memory storage.Store for unit tests of the WAL
// archive: fast, deterministic (with WithClock), and as strict as the real
// backends.
//
// Strictness: it enforces what fsstore cannot do either, so a layout that
// would fail on a filesystem fails here first: a key may not also be the
// "directory" of another key ("a/b" and "a/b/c"); Put and Create of such a
// key fail with storage.ErrInvalidKey.
//
// Unlike the real backends it holds every object whole in memory, Put
// included; that is its purpose, not a model for them.
package memstore
