package basebackup

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCommand(t *testing.T) {
	got := command{Label: "it's", Fast: true, MaxRate: 1024}.String()
	want := "BASE_BACKUP (LABEL 'it''s', WAL true, WAIT false, MANIFEST 'yes', MANIFEST_CHECKSUMS 'CRC32C', CHECKPOINT 'fast', MAX_RATE 1024)"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

type recordSink struct{ events []string }

func (r *recordSink) archive(_ context.Context, name, loc string) error {
	r.events = append(r.events, "n:"+name+":"+loc)
	return nil
}
func (r *recordSink) manifest(context.Context) error { r.events = append(r.events, "m"); return nil }
func (r *recordSink) data(p []byte) error            { r.events = append(r.events, "d:"+string(p)); return nil }
func (r *recordSink) progress(n int64)               { r.events = append(r.events, "p") }

func TestDispatch(t *testing.T) {
	var s recordSink
	msgs := [][]byte{
		[]byte("nbase.tar\x00\x00"), []byte("dabc"), []byte("n16384.tar\x00/ts\x00"),
		{'p', 0, 0, 0, 0, 0, 0, 1, 0}, []byte("m"), []byte("d{}"),
	}
	for _, m := range msgs {
		if err := dispatch(context.Background(), m, &s); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"n:base.tar:", "d:abc", "n:16384.tar:/ts", "p", "m", "d:{}"}
	if diff := cmp.Diff(want, s.events); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range [][]byte{{}, []byte("x"), []byte("nbase.tar"), {'p', 1}} {
		if err := dispatch(context.Background(), bad, &s); !errors.Is(err, ErrProtocol) {
			t.Errorf("dispatch(%q) = %v, want ErrProtocol", bad, err)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{"16MB": 16 << 20, "1GB": 1 << 30, "512kB": 512 << 10} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v", in, got, err)
		}
	}
	if _, err := parseSize("16 MB"); err == nil {
		t.Error("parseSize accepted a space")
	}
}
