package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

// variants are the option sets every property is checked for.
func variants() map[string]Options {
	return map[string]Options{
		"zstd":          {Compression: Zstd},
		"zstd-19":       {Compression: Zstd, Level: 19},
		"lz4":           {Compression: LZ4},
		"lz4-9":         {Compression: LZ4, Level: 9},
		"none":          {Compression: None},
		"zstd-aes":      {Compression: Zstd, Key: testKey(7)},
		"lz4-aes":       {Compression: LZ4, Key: testKey(7)},
		"none-aes":      {Compression: None, Key: testKey(7)},
		"default-empty": {},
	}
}

// walLike is n bytes shaped like WAL: record headers with increasing
// counters, repetitive tuple text, some random bytes, and a zero tail.
func walLike(n int, seed uint64) []byte {
	rng := mrand.New(mrand.NewPCG(seed, 1))
	out := make([]byte, 0, n)
	for i := uint64(0); len(out) < n*3/4; i++ {
		out = binary.LittleEndian.AppendUint64(out, i*112)
		out = binary.LittleEndian.AppendUint32(out, uint32(rng.IntN(1000)))
		out = fmt.Appendf(out, "aid=%08d bid=%04d abalance=%+07d filler=%40s", rng.IntN(1e6), rng.IntN(100), rng.IntN(1e5)-5e4, "")
		for range 12 {
			out = append(out, byte(rng.Uint32()))
		}
	}
	out = out[:min(len(out), n)]
	return append(out, make([]byte, n-len(out))...)
}

func encode(t testing.TB, data []byte, o Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decode(obj []byte, key []byte, wrap func(io.Reader) io.Reader) ([]byte, error) {
	var src io.Reader = bytes.NewReader(obj)
	if wrap != nil {
		src = wrap(src)
	}
	r, err := NewReader(src, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func TestRoundTrip(t *testing.T) {
	sizes := []int{0, 1, chunkSize - 1, chunkSize, 3*chunkSize + 7, 2 << 20}
	for name, o := range variants() {
		for _, size := range sizes {
			t.Run(fmt.Sprintf("%s/%d", name, size), func(t *testing.T) {
				data := walLike(size, uint64(size))
				obj := encode(t, data, o)
				got, err := decode(obj, o.Key, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, data) {
					t.Fatalf("decoded %d bytes differ from the %d written", len(got), len(data))
				}
			})
		}
	}
}

func TestRoundTripSmallReadsAndWrites(t *testing.T) {
	data := walLike(600<<10, 3)
	for name, o := range variants() {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, o)
			if err != nil {
				t.Fatal(err)
			}
			for p := data; len(p) > 0; p = p[min(len(p), 999):] {
				if _, err := w.Write(p[:min(len(p), 999)]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := decode(buf.Bytes(), o.Key, iotest.OneByteReader)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("decode: %v, equal=%v", err, bytes.Equal(got, data))
			}
		})
	}
}

// TestTruncationDetected cuts objects at every record boundary region and
// many other points: the reader must fail with ErrChecksum (ErrFormat
// inside the magic), never return the short data as complete.
func TestTruncationDetected(t *testing.T) {
	data := walLike(700<<10, 5)
	for name, o := range variants() {
		t.Run(name, func(t *testing.T) {
			obj := encode(t, data, o)
			cuts := []int{0, 2, 4, 7, 12, 20, 51, 53}
			for c := len(obj) - 40; c < len(obj); c++ {
				cuts = append(cuts, c)
			}
			for c := 60; c < len(obj); c += len(obj)/37 + 1 {
				cuts = append(cuts, c)
			}
			for _, c := range cuts {
				if c < 0 || c >= len(obj) {
					continue
				}
				_, err := decode(obj[:c], o.Key, nil)
				if !errors.Is(err, ErrChecksum) && !(c < len(magic)+4 && errors.Is(err, ErrFormat)) {
					t.Fatalf("cut at %d of %d: %v, want ErrChecksum", c, len(obj), err)
				}
			}
		})
	}
}

// TestCorruptionDetected flips one bit at many positions.
func TestCorruptionDetected(t *testing.T) {
	data := walLike(300<<10, 9)
	for name, o := range variants() {
		t.Run(name, func(t *testing.T) {
			obj := encode(t, data, o)
			for pos := 0; pos < len(obj); pos += len(obj)/97 + 1 {
				for _, p := range []int{pos, len(obj) - 1 - pos%20} {
					bad := bytes.Clone(obj)
					bad[p] ^= 0x10
					got, err := decode(bad, o.Key, nil)
					if err == nil {
						t.Fatalf("flip at %d of %d: decoded %d bytes without error (equal: %v)", p, len(obj), len(got), bytes.Equal(got, data))
					}
					if !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrWrongKey) {
						t.Fatalf("flip at %d: %v wraps no sentinel", p, err)
					}
				}
			}
		})
	}
}

func TestAppendedDataDetected(t *testing.T) {
	for name, o := range variants() {
		obj := append(encode(t, []byte("hello"), o), 0)
		if _, err := decode(obj, o.Key, nil); !errors.Is(err, ErrChecksum) {
			t.Errorf("%s: trailing byte: %v, want ErrChecksum", name, err)
		}
	}
}

func TestKeys(t *testing.T) {
	data := walLike(100<<10, 1)
	enc := encode(t, data, Options{Key: testKey(1)})
	if _, err := decode(enc, nil, nil); !errors.Is(err, ErrKeyRequired) {
		t.Errorf("no key: %v, want ErrKeyRequired", err)
	}
	_, err := decode(enc, testKey(2), nil)
	if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "fingerprint") {
		t.Errorf("wrong key: %v, want ErrWrongKey naming fingerprints", err)
	}
	if _, err := decode(enc, []byte("short"), nil); !errors.Is(err, ErrWrongKey) {
		t.Errorf("short key: %v, want ErrWrongKey", err)
	}
	// A key given for a plain object is not needed and does no harm: an
	// archive can switch encryption on and still restore older segments.
	plain := encode(t, data, Options{})
	if got, err := decode(plain, testKey(1), nil); err != nil || !bytes.Equal(got, data) {
		t.Errorf("plain object read with a key: %v", err)
	}
	// Same key, same data: different bytes (fresh salt per object).
	if bytes.Equal(enc, encode(t, data, Options{Key: testKey(1)})) {
		t.Error("two encryptions of the same data are identical")
	}
	if bytes.Contains(enc, data[:64]) {
		t.Error("plaintext visible in encrypted object")
	}
}

// TestRecordsCannotBeSwappedBetweenObjects splices a data record from one
// encrypted object into another of the same key.
func TestRecordsCannotBeSwappedBetweenObjects(t *testing.T) {
	a := encode(t, bytes.Repeat([]byte("a"), 1000), Options{Compression: None, Key: testKey(3)})
	b := encode(t, bytes.Repeat([]byte("b"), 1000), Options{Compression: None, Key: testKey(3)})
	hdr := fixedHeaderSize + saltSize + fingerprintSize + crcSize
	spliced := append(append([]byte(nil), a[:hdr]...), b[hdr:]...)
	if _, err := decode(spliced, testKey(3), nil); !errors.Is(err, ErrChecksum) {
		t.Errorf("spliced: %v, want ErrChecksum", err)
	}
}

func TestNotOurFormat(t *testing.T) {
	for name, in := range map[string][]byte{
		"empty":   nil,
		"zstd":    {0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0},
		"version": append([]byte(magic), 9, 1, 0, 0, 0, 0, 0, 0),
	} {
		if _, err := decode(in, nil, nil); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
	h := header{compression: None}
	raw := h.marshal()
	raw[len(magic)+1] = 9 // unknown compression, valid CRC
	raw = binary.BigEndian.AppendUint32(raw[:len(raw)-crcSize], crc32c(raw[:len(raw)-crcSize]))
	if _, err := decode(raw, nil, nil); !errors.Is(err, ErrFormat) {
		t.Errorf("unknown compression: %v, want ErrFormat", err)
	}
}

// TestSourceErrorsPassThrough: a failing connection is not corruption.
func TestSourceErrorsPassThrough(t *testing.T) {
	outage := errors.New("connection reset")
	data := walLike(2<<20, 4)
	for name, o := range variants() {
		obj := encode(t, data, o)
		for _, at := range []int64{3, 30, int64(len(obj) / 2), int64(len(obj) - 3)} {
			_, err := decode(obj, o.Key, func(r io.Reader) io.Reader {
				return io.MultiReader(io.LimitReader(r, at), iotest.ErrReader(outage))
			})
			if !errors.Is(err, outage) || IsInvalid(err) {
				t.Errorf("%s: failure at %d: %v, want the source's error only", name, at, err)
			}
		}
	}
}

func TestWriterMisuse(t *testing.T) {
	w, err := NewWriter(io.Discard, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("write after close succeeded")
	}
	failing := errors.New("disk full")
	if _, err := NewWriter(writerFunc(func([]byte) (int, error) { return 0, failing }), Options{}); !errors.Is(err, failing) {
		t.Errorf("header write failure: %v", err)
	}
	if _, err := NewWriter(io.Discard, Options{Key: []byte("short")}); err == nil {
		t.Error("short key accepted")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestOptionsValidate(t *testing.T) {
	good := []Options{{Compression: Zstd, Level: 22}, {Compression: LZ4}, {Compression: None}, {Compression: Zstd, Key: testKey(1)}}
	for _, o := range good {
		if err := o.Default().Validate(); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
	bad := []Options{{Compression: "gzip"}, {Compression: Zstd, Level: 23}, {Compression: LZ4, Level: 10},
		{Compression: None, Level: 1}, {Compression: Zstd, Key: make([]byte, 16)}, {Compression: Zstd, Level: -1}}
	for _, o := range bad {
		if err := o.Default().Validate(); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if got := (Options{}).Default(); got.Compression != Zstd || got.Level != DefaultZstdLevel {
		t.Errorf("Default() = %+v", got)
	}
}

func FuzzNewReader(f *testing.F) {
	key := testKey(5)
	for _, o := range variants() {
		o.Key = map[bool][]byte{true: key}[o.Key != nil]
		f.Add(encode(f, walLike(3000, 1), o))
		f.Add(encode(f, nil, o))
	}
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, obj []byte) {
		got, err := decode(obj, key, nil)
		if err == nil {
			// Whatever decodes must re-encode to something that decodes to
			// the same bytes; and the input must have been well formed,
			// which a random mutation of a tag or checksum never is.
			if again, err := decode(encode(t, got, Options{}), nil, nil); err != nil || !bytes.Equal(again, got) {
				t.Fatalf("re-encode: %v", err)
			}
			return
		}
		if !IsInvalid(err) {
			t.Fatalf("%v wraps no sentinel", err)
		}
	})
}
