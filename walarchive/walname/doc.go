// Package walname parses and formats the names of the files PostgreSQL
// hands to archive_command and asks restore_command for:
//
//	000000010000000A000000FE                   segment (timeline, log, seg)
//	000000010000000A000000FE.partial           last, incomplete segment of a timeline
//	000000010000000A000000FE.00000028.backup   backup history file
//	00000002.history                           timeline history file
//
// A segment is identified here by its timeline and its absolute segment
// number (LSN / segment size), not by the "log" and "seg" halves of its
// name, so "the next segment" and "is there a gap" are integer arithmetic.
// The halves depend on the segment size (initdb --wal-segsize, a power of
// two from 1 MiB to 1 GiB, 16 MiB by default): a log holds 4 GiB of WAL, so
// with 16 MiB segments seg runs from 00 to FF and with 1 GiB from 0 to 3.
// Every function therefore takes a Size; zero means DefaultSize.
//
// Invariants: Parse accepts exactly the names PostgreSQL itself writes
// (upper-case hex, timeline >= 1, seg below the segments per log for the
// size), so for every accepted name f, f.Name(size) returns it unchanged.
// The fuzz target FuzzParse checks that round trip. Rejecting lower-case and
// out-of-range names matters because the archive key is the name: two
// spellings of one segment would be two objects.
//
// What it deliberately does not do: no I/O, no reading of pg_wal or
// archive_status, no knowledge of which timeline is current.
package walname
