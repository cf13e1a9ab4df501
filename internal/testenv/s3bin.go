package testenv

import (
	"os"
	"sync"
)

// s3InstallHint is what a developer runs to get the S3 server.
const s3InstallHint = "run `make testbins` (builds versitygw from the Go module proxy: ~1.5 min cold on 2 CPUs, cached afterwards) or set TENURE_VERSITYGW"

var versitygwBin struct {
	once sync.Once
	path string
	err  error
}

// lookupVersitygw returns TENURE_VERSITYGW when set, otherwise the
// versioned cache path that tools/install.sh --paths prints. Like
// LookupBinaries it never builds; a missing binary is a *MissingError.
func lookupVersitygw() (string, error) {
	versitygwBin.once.Do(func() {
		path := os.Getenv("TENURE_VERSITYGW")
		if path == "" {
			paths, err := installPaths()
			if err != nil {
				versitygwBin.err = err
				return
			}
			if path = paths["versitygw"]; path == "" {
				versitygwBin.err = missingf(s3InstallHint, "install.sh --paths printed no versitygw path")
				return
			}
		}
		if _, err := os.Stat(path); err != nil {
			versitygwBin.err = missingf(s3InstallHint, "versitygw not built (no %s)", path)
			return
		}
		versitygwBin.path = path
	})
	return versitygwBin.path, versitygwBin.err
}
