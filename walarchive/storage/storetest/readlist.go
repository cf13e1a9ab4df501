package storetest

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenure-pg/tenure/walarchive/storage"
)

func getRange(t *testing.T, s storage.Store, key string, offset, length int64) []byte {
	t.Helper()
	rc, err := s.GetRange(testContext(t), key, offset, length)
	if err != nil {
		t.Fatalf("GetRange(%q, %d, %d): %v", key, offset, length, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read GetRange(%q, %d, %d): %v", key, offset, length, err)
	}
	return b
}

func testRange(t *testing.T, s storage.Store) {
	data := content(9, 1000)
	put(t, s, "obj", data)
	put(t, s, "empty", nil)
	tests := []struct {
		name           string
		offset, length int64
		want           []byte
	}{
		{"start", 0, 10, data[:10]},
		{"middle", 500, 100, data[500:600]},
		{"end", 990, 10, data[990:]},
		{"clipped at end", 990, 100, data[990:]},
		{"to end", 10, -1, data[10:]},
		{"whole", 0, -1, data},
		{"zero length", 10, 0, nil},
		{"at end", 1000, 10, nil},
		{"past end", 2000, 5, nil},
		{"past end to end", 2000, -1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkBytes(t, tc.name, getRange(t, s, "obj", tc.offset, tc.length), tc.want)
		})
	}
	for _, r := range [][2]int64{{0, 10}, {0, -1}, {5, 1}} {
		checkBytes(t, fmt.Sprintf("empty object %v", r), getRange(t, s, "empty", r[0], r[1]), nil)
	}
	if _, err := s.GetRange(testContext(t), "obj", -1, 10); err == nil {
		t.Error("GetRange with a negative offset succeeded")
	}
}

func testRangeAcrossParts(t *testing.T, s storage.Store) {
	data := content(10, 11*mib)
	put(t, s, "big", data)
	for _, r := range [][2]int64{{5*mib - 10, 20}, {10*mib - 1, 2}, {11*mib - 3, 100}, {3, 6 * mib}} {
		end := min(int64(len(data)), r[0]+r[1])
		checkBytes(t, fmt.Sprintf("range %v", r), getRange(t, s, "big", r[0], r[1]), data[r[0]:end])
	}
}

// modTimeSlack allows for S3's whole-second Last-Modified.
const modTimeSlack = 2 * time.Second

func testStat(t *testing.T, s storage.Store) {
	before := time.Now()
	put(t, s, "stat/obj", content(11, 1234))
	after := time.Now()
	info, err := s.Stat(testContext(t), "stat/obj")
	if err != nil {
		t.Fatal(err)
	}
	if info.Key != "stat/obj" || info.Size != 1234 || info.ETag == "" {
		t.Errorf("Stat = %+v, want key stat/obj, size 1234 and an ETag", info)
	}
	if info.ModTime.Before(before.Add(-modTimeSlack)) || info.ModTime.After(after.Add(modTimeSlack)) {
		t.Errorf("ModTime %v not within [%v, %v]", info.ModTime, before, after)
	}
	put(t, s, "stat/obj", content(12, 1234))
	again, err := s.Stat(testContext(t), "stat/obj")
	if err != nil {
		t.Fatal(err)
	}
	if again.ETag == info.ETag {
		t.Errorf("ETag %q unchanged after rewriting with other bytes", info.ETag)
	}
	var listed []storage.Info
	for i, err := range s.List(testContext(t), "stat/") {
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, i)
	}
	if len(listed) != 1 || listed[0].Key != again.Key || listed[0].Size != again.Size || listed[0].ETag != again.ETag {
		t.Errorf("List = %+v, want the one object as Stat describes it: %+v", listed, again)
	}
}

// listKeys covers the orderings a directory walk gets wrong ('-' sorts
// before '/', so "a/b-c" comes before "a/b/1") and prefixes that are not
// whole path components.
var listKeys = []string{"z", "a/bc/1", "a/b/sub/3", "a/b/2", "a/b/1", "a/b-c", "a-c", "a/b.c", "b"}

func testList(t *testing.T, s storage.Store) {
	for i, k := range listKeys {
		put(t, s, k, content(uint64(i), i))
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"a-c", "a/b-c", "a/b.c", "a/b/1", "a/b/2", "a/b/sub/3", "a/bc/1", "b", "z"}},
		{"a/b/", []string{"a/b/1", "a/b/2", "a/b/sub/3"}},
		{"a/b", []string{"a/b-c", "a/b.c", "a/b/1", "a/b/2", "a/b/sub/3", "a/bc/1"}},
		{"a/bc", []string{"a/bc/1"}},
		{"a/b/1", []string{"a/b/1"}},
		{"a", []string{"a-c", "a/b-c", "a/b.c", "a/b/1", "a/b/2", "a/b/sub/3", "a/bc/1"}},
		{"a/", []string{"a/b-c", "a/b.c", "a/b/1", "a/b/2", "a/b/sub/3", "a/bc/1"}},
		{"a/b/s", []string{"a/b/sub/3"}},
		{"nothing/", nil},
		{"a/b/1/", nil},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, keys(t, s, tc.prefix)); diff != "" {
			t.Errorf("List(%q) (-want +got):\n%s", tc.prefix, diff)
		}
	}
	for info, err := range s.List(testContext(t), "") {
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(indexOf(listKeys, info.Key)); info.Size != want {
			t.Errorf("List: %s has size %d, want %d", info.Key, info.Size, want)
		}
	}
}

func indexOf(keys []string, key string) int {
	for i, k := range keys {
		if k == key {
			return i
		}
	}
	return -1
}

func testListStopEarly(t *testing.T, s storage.Store) {
	for i := range 5 {
		put(t, s, fmt.Sprintf("many/%d", i), nil)
	}
	var got []string
	for info, err := range s.List(testContext(t), "many/") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, info.Key)
		if len(got) == 2 {
			break
		}
	}
	if diff := cmp.Diff([]string{"many/0", "many/1"}, got); diff != "" {
		t.Errorf("List stopped after two (-want +got):\n%s", diff)
	}
}

func testDelete(t *testing.T, s storage.Store) {
	ctx := testContext(t)
	put(t, s, "d/e/f", []byte("x"))
	put(t, s, "d/g", []byte("y"))
	for range 2 {
		if err := s.Delete(ctx, "d/e/f"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		checkNotFound(t, s, "d/e/f")
	}
	if err := s.Delete(ctx, "never/existed"); err != nil {
		t.Errorf("Delete of a missing key: %v", err)
	}
	if err := s.Delete(ctx, "d"); err != nil {
		t.Errorf("Delete of a key that is only a directory: %v", err)
	}
	if diff := cmp.Diff([]string{"d/g"}, keys(t, s, "")); diff != "" {
		t.Errorf("after Delete (-want +got):\n%s", diff)
	}
	// Deleting the last object under d/e frees the name for an object.
	put(t, s, "d/e", []byte("z"))
	checkBytes(t, "d/e", get(t, s, "d/e"), []byte("z"))
	if errors.Is(s.Delete(ctx, "d/g"), storage.ErrNotFound) {
		t.Error("Delete returned ErrNotFound")
	}
}
