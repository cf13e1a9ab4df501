package walsvc

import (
	"bufio"
	"bytes"
	"errors"
	"testing"
)

// Every reply code maps to the sentinel callers branch on.
func TestReplyError(t *testing.T) {
	for code, want := range map[string]error{
		CodeOK: nil, CodeNotArchived: ErrNotArchived, CodeBadRequest: ErrBadRequest,
		CodeNotServed: ErrNoServer, CodeVersion: ErrNoServer, CodeShutdown: ErrNoServer,
		CodeFailed: ErrFailed, "from the future": ErrFailed,
	} {
		err := replyError(reply{Version: ProtocolVersion, Code: code, Error: "why"})
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Errorf("code %q: %v, want %v", code, err, want)
		}
	}
}

// The request decoder never panics and refuses oversized lines.
func FuzzReadRequest(f *testing.F) {
	f.Add([]byte(`{"v":2,"op":"push","path":"/d/pg_wal/000000010000000000000001"}` + "\n"))
	f.Add([]byte(`{"v":2,"op":"fetch","name":"00000002.history","dest":"/d/pg_wal/RECOVERYHISTORY"}` + "\n"))
	f.Add([]byte("\n"))
	f.Add(append(bytes.Repeat([]byte("a"), maxMessage+1), '\n'))
	f.Fuzz(func(t *testing.T, b []byte) {
		var req request
		err := readMessage(bufio.NewReaderSize(bytes.NewReader(b), maxMessage), &req)
		if err == nil && bytes.IndexByte(b, '\n') >= maxMessage {
			t.Fatalf("accepted a line of %d bytes", bytes.IndexByte(b, '\n'))
		}
	})
}
