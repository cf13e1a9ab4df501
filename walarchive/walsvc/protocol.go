package walsvc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ProtocolVersion is sent in every request and reply. A server answers a
// request of another version with CodeVersion and does nothing, so a
// client of a different build falls back to standalone.
//
// Version 2 added CodeAccepted: the server acknowledges a request at once
// and replies again when done, so a client can tell a hung server from a
// slow upload.
const ProtocolVersion = 2

// maxMessage bounds one JSON line. Requests carry two paths (PATH_MAX is
// 4096 on Linux), replies an error message.
const maxMessage = 16 << 10

// Operations.
const (
	opPush  = "push"
	opFetch = "fetch"
)

// Reply codes. The client turns each into an error a caller can test
// with errors.Is (see client.go).
const (
	CodeAccepted    = "accepted" // the server has the request and works on it; the final reply follows
	CodeOK          = "ok"
	CodeNotArchived = "not_archived" // fetch: the archive has no such file
	CodeBadRequest  = "bad_request"  // malformed or invalid request; nothing was done
	CodeNotServed   = "not_served"   // the file is not in the data directory this server serves
	CodeVersion     = "version"      // protocol version mismatch; nothing was done
	CodeFailed      = "failed"       // tried and failed; Error says why
	CodeShutdown    = "shutdown"     // the server is stopping; nothing is known to be done
)

// request is one line of JSON from the client. Paths are absolute: the
// client resolves them against its working directory (PGDATA), which the
// server does not share.
type request struct {
	Version int    `json:"v"`
	Op      string `json:"op"`
	Path    string `json:"path,omitempty"` // push: the file to archive
	Name    string `json:"name,omitempty"` // fetch: the archived file's name
	Dest    string `json:"dest,omitempty"` // fetch: where to write it
}

// reply is one line of JSON from the server.
type reply struct {
	Version int    `json:"v"`
	Code    string `json:"code"`
	Error   string `json:"error,omitempty"`
}

// writeMessage writes v as one JSON line.
func writeMessage(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(b) >= maxMessage {
		return fmt.Errorf("message of %d bytes exceeds %d", len(b), maxMessage)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// errTooLong: a line without a newline within maxMessage bytes.
var errTooLong = errors.New("message too long")

// readMessage reads one JSON line into v. Unknown fields are refused so a
// typo in a hand-written request is an error, not an ignored field.
func readMessage(r *bufio.Reader, v any) error {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("%w: over %d bytes", errTooLong, maxMessage)
	}
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}
