//go:build tools

// Package s3 pins versitygw, the S3-compatible server the walarchive tests
// run against (posix backend: objects are plain files). It is its own module
// so that versitygw's dependency tree never enters the product's graph.
package s3

import _ "github.com/versity/versitygw/cmd/versitygw"
