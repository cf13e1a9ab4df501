package wal

import (
	"bytes"
	"errors"
	"io"
	"os"
)

// compareBuf is the chunk equalStreams compares at a time.
const compareBuf = 256 << 10

// equalStreams reports whether a and b yield the same bytes. An error of
// either reader is returned as is.
func equalStreams(a, b io.Reader) (bool, error) {
	bufA, bufB := make([]byte, compareBuf), make([]byte, compareBuf)
	for {
		na, errA := io.ReadFull(a, bufA)
		if errA != nil && !isShort(errA) {
			return false, errA
		}
		nb, errB := io.ReadFull(b, bufB)
		if errB != nil && !isShort(errB) {
			return false, errB
		}
		if na != nb || !bytes.Equal(bufA[:na], bufB[:nb]) {
			return false, nil
		}
		if errA != nil || errB != nil {
			// Both ended here (equal lengths). Make sure a reader that
			// verifies at its end (the codec) has done so.
			if _, err := a.Read(bufA[:1]); err != nil && err != io.EOF {
				return false, err
			}
			return errA != nil && errB != nil, nil
		}
	}
}

func isShort(err error) bool { return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) }

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
