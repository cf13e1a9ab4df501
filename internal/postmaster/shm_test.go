package postmaster

import (
	"testing"
)

// A postmaster.pid as PostgreSQL 15 writes it once the server is ready.
const readyPIDFile = `25254
/tmp/tenure-pg-123/data
1796205747
5432
/tmp/tenure-pg-123
127.0.0.2
  9977863        18
ready   
`

func TestPIDFileSegment(t *testing.T) {
	cases := []struct {
		name string
		file string
		want segment
		ok   bool
	}{
		{"ready", readyPIDFile, segment{key: 9977863, id: 18}, true},
		{"key above 2^31", "1\n/d\n0\n5432\n/s\n*\n3000000000 32778\n", segment{key: 3000000000, id: 32778}, true},
		{"no shm line yet", "25254\n/tmp/d\n1796205747\n5432\n/tmp\n127.0.0.2\n", segment{}, false},
		{"blank shm line", "25254\n/tmp/d\n1796205747\n5432\n/tmp\n127.0.0.2\n\n", segment{}, false},
		{"one field", "1\n/d\n0\n5432\n/s\n*\n9977863\n", segment{}, false},
		{"not numbers", "1\n/d\n0\n5432\n/s\n*\nkey id\n", segment{}, false},
		{"empty", "", segment{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := pidFileSegment([]byte(c.file))
			if got != c.want || ok != c.ok {
				t.Errorf("pidFileSegment = %+v, %v; want %+v, %v", got, ok, c.want, c.ok)
			}
		})
	}
}

// Copied from /proc/sysvipc/shm on Linux 6.x (columns padded as printed).
const shmTable = `       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap
   9977860      98312   600                    56 31850 31872      0   101   104   101   104 1796205812 1796205812 1796205812                  4096                     0
   9977863         18   600                    56 25383 25394      7   101   104   101   104 1796205747 1796205747 1796205747                  4096                     0
-1294967296      32778   600                    56 26260 26282      2   101   104   101   104 1796205767 1796205767 1796205767                  4096                     0
`

func TestAttachments(t *testing.T) {
	cases := []struct {
		name string
		seg  segment
		want int
	}{
		{"attached", segment{key: 9977863, id: 18}, 7},
		{"detached", segment{key: 9977860, id: 98312}, 0},
		{"removed", segment{key: 9977863, id: 19}, 0},
		{"id reused for another key", segment{key: 9977999, id: 18}, 0},
		{"key printed signed", segment{key: 3000000000, id: 32778}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := attachments([]byte(shmTable), c.seg)
			if err != nil || got != c.want {
				t.Errorf("attachments(%+v) = %d, %v; want %d", c.seg, got, err, c.want)
			}
		})
	}
	if _, err := attachments([]byte("key id perms\n1 2 600\n"), segment{key: 1, id: 2}); err == nil {
		t.Error("a table without shmid and nattch columns: no error")
	}
}
