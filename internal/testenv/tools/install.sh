#!/usr/bin/env bash
# Builds the real control-plane binaries the tests use from the Go module
# proxy, once per pinned version, into a cache outside the repository:
#   $TENURE_CACHE/bin/kube-apiserver-<version>
#   $TENURE_CACHE/bin/etcd-<version>
#   $TENURE_CACHE/bin/versitygw-<version>   (S3 server for walarchive)
# A cached binary is never rebuilt. The versions are pinned in the go.mod
# files beside this script, and only there.
#
# With --paths it builds nothing and prints where the binaries belong, one
# `name=path` line each, so package testenv finds them without knowing the pins.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${TENURE_CACHE:-$HOME/.cache/tenure}

pinned() { # module dir, module path -> version
  awk -v m="$2" '$1==m || ($1=="require" && $2==m) {print $NF; exit}' "$here/$1/go.mod"
}

build() { # module dir, package, binary name, version
  local out="$cache/bin/$3-$4"
  if [ -x "$out" ]; then
    echo "testenv: $3 $4 cached at $out"
    return
  fi
  echo "testenv: building $3 $4 (cold build; cached afterwards)"
  local start=$SECONDS
  (cd "$here/$1" && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$out.tmp" "$2")
  mv "$out.tmp" "$out"
  echo "testenv: built $3 $4 in $((SECONDS - start))s"
}

kube=$(pinned kube k8s.io/kubernetes)
etcd=$(pinned etcd go.etcd.io/etcd/server/v3)
versitygw=$(pinned s3 github.com/versity/versitygw)
if [ "${1:-}" = "--paths" ]; then
  echo "etcd=$cache/bin/etcd-$etcd"
  echo "kube-apiserver=$cache/bin/kube-apiserver-$kube"
  echo "versitygw=$cache/bin/versitygw-$versitygw"
  exit 0
fi
mkdir -p "$cache/bin"
build etcd . etcd "$etcd"
build kube k8s.io/kubernetes/cmd/kube-apiserver kube-apiserver "$kube"
build s3 github.com/versity/versitygw/cmd/versitygw versitygw "$versitygw"
