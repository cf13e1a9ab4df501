// Command etcd is etcd's own server, built from the Go module proxy at the
// version pinned in go.mod. etcd's go.mod carries replace directives, so
// `go install go.etcd.io/etcd/server/v3@v3.6.x` is refused; this wrapper
// module is the smallest thing that builds it.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
