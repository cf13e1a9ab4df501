package pgctl

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// tailLines is how much of a log an error carries: a start failure's cause
// is in its last dozen lines; whole logs drown the caller's output.
const tailLines = 20

// tailBytes bounds how much of the log file is read for its tail.
const tailBytes = 16 << 10

// logTail returns the last tailLines lines of the server log.
func (in *Instance) logTail() string {
	f, err := os.Open(in.cfg.LogPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > tailBytes {
		_, _ = f.Seek(st.Size()-tailBytes, io.SeekStart)
	}
	b, err := io.ReadAll(f)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Sprintf("(read log: %v)", err)
	}
	return lastLines(string(b), tailLines)
}

// lastLines returns the last n lines of s, without a trailing newline.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
