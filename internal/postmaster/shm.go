package postmaster

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// segment is a System V shared memory segment as postmaster.pid names it.
type segment struct {
	key uint32
	id  int
}

// pidFileShmLine is postmaster.pid's line with "<key> <shmid>"
// (LOCK_FILE_LINE_SHMEM_KEY in PostgreSQL's pidfile.h).
const pidFileShmLine = 7

// pidFileSegment returns the segment on line 7 of a postmaster.pid. The
// file is written in steps, so a postmaster that died early has no such
// line; PostgreSQL then skips its check, and so do we (ok is false).
func pidFileSegment(pidFile []byte) (seg segment, ok bool) {
	lines := bytes.Split(pidFile, []byte("\n"))
	if len(lines) < pidFileShmLine {
		return segment{}, false
	}
	f := bytes.Fields(lines[pidFileShmLine-1])
	if len(f) != 2 {
		return segment{}, false
	}
	key, err1 := strconv.ParseUint(string(f[0]), 10, 32)
	id, err2 := strconv.Atoi(string(f[1]))
	if err1 != nil || err2 != nil {
		return segment{}, false
	}
	return segment{key: uint32(key), id: id}, true
}

// attachments returns the nattch of seg in the text of /proc/sysvipc/shm,
// 0 when no segment has its id and key (removed, or the id reused for
// another key). Columns are found by the header's names.
func attachments(table []byte, seg segment) (int, error) {
	lines := bytes.Split(table, []byte("\n"))
	col := map[string]int{}
	for i, name := range bytes.Fields(lines[0]) {
		col[string(name)] = i
	}
	keyCol, ok1 := col["key"]
	idCol, ok2 := col["shmid"]
	nattchCol, ok3 := col["nattch"]
	if !ok1 || !ok2 || !ok3 {
		return 0, fmt.Errorf("no key, shmid and nattch columns in header %q", lines[0])
	}
	for _, line := range lines[1:] {
		f := bytes.Fields(line)
		if len(f) <= max(keyCol, idCol, nattchCol) || string(f[idCol]) != strconv.Itoa(seg.id) {
			continue
		}
		// The kernel prints the key signed; postmaster.pid unsigned.
		key, err := strconv.ParseInt(string(f[keyCol]), 10, 64)
		if err != nil || uint32(key) != seg.key {
			return 0, nil
		}
		return strconv.Atoi(string(f[nattchCol]))
	}
	return 0, nil
}

// sysvShmTable is where Linux lists System V shared memory segments.
const sysvShmTable = "/proc/sysvipc/shm"

// inUse reports how many processes are attached to the segment
// dataDir/postmaster.pid names, as PostgreSQL would find it.
func inUse(dataDir string) (segment, int, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		if os.IsNotExist(err) {
			return segment{}, 0, nil
		}
		return segment{}, 0, err
	}
	seg, ok := pidFileSegment(b)
	if !ok {
		return segment{}, 0, nil
	}
	table, err := os.ReadFile(sysvShmTable)
	if err != nil {
		return seg, 0, err
	}
	n, err := attachments(table, seg)
	if err != nil {
		return seg, 0, fmt.Errorf("%s: %w", sysvShmTable, err)
	}
	return seg, n, nil
}
