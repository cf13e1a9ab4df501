#!/usr/bin/env bash
# images/build.sh: build the images with no registry, idempotently.
#
#   images/build.sh [VARIANT...]   build (default: 15); prints one tag a line
#   images/build.sh --tag VARIANT  print the tag VARIANT would get, build nothing
#
# Variants: 15, 15-gis (PostGIS), 17 (PostgreSQL 17 from trixie), operator
# (only when cmd/tenure-operator exists; otherwise skipped with a note).
# Tags name the content: tenure/postgres:<variant>-<git sha of the last
# commit that changed the inputs>, with a hash of uncommitted changes to
# them appended; never latest. An
# image whose tag exists is not rebuilt, so a second run takes seconds.
# BASE_IMAGE=debian:bookworm-slim (a registry's) skips debootstrap.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
cache=${TENURE_CACHE:-$HOME/.cache/tenure}/images

# inputs are the paths an image is built from: the Dockerfiles and scripts
# and the Go module the binaries come from (chaos/ and docs are not).
inputs=(images cmd podagent leaderelect walarchive internal go.mod go.sum)

# rev is the last commit that changed the inputs, plus a hash of their
# uncommitted changes when there are any: a commit that touches only the
# README or chaos/ reuses the images.
rev() {
  local r
  r=$(git log -1 --format=%h --abbrev=12 -- "${inputs[@]}")
  if [ -n "$(git status --porcelain --untracked-files=normal -- "${inputs[@]}")" ]; then
    r=$r-dirty-$( { git diff HEAD -- "${inputs[@]}"; git ls-files -o --exclude-standard -z -- "${inputs[@]}" | xargs -0r sha256sum; } | sha256sum | cut -c1-8)
  fi
  echo "$r"
}

tag_of() {
  case $1 in
    operator) echo "tenure/operator:$(rev)" ;;
    *) echo "tenure/postgres:$1-$(rev)" ;;
  esac
}

# agent_binary DIR: the static, stripped tenure-agent into DIR.
agent_binary() {
  CGO_ENABLED=0 GOWORK=off go build -trimpath -ldflags '-s -w' -o "$1/tenure-agent" ./cmd/tenure-agent
}

# dbuild TAG ARGS...: docker build, its log kept in the cache and shown on
# failure. The Dockerfiles avoid BuildKit-only syntax: Docker's legacy
# builder is all this machine has (no buildx).
dbuild() {
  local log=$cache/build-${1//[\/:]/_}.log
  mkdir -p "$cache"
  shift
  docker build "$@" >"$log" 2>&1 || { tail -n 40 "$log" >&2; echo "images: docker build failed, log $log" >&2; return 1; }
}

build_postgres() { # variant tag
  local variant=$1 tag=$2 major=${1%%-*} gis=0 suite=bookworm base ctx
  [[ $variant == *-gis ]] && gis=1
  [ "$major" = 17 ] && suite=trixie
  base=${BASE_IMAGE:-$(images/base/build.sh "$suite")}
  [ "$major" = 17 ] && [ -n "${BASE_IMAGE:-}" ] && base=${BASE_IMAGE/bookworm/trixie}
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' RETURN
  cp images/postgres/Dockerfile "$ctx/"
  agent_binary "$ctx"
  dbuild "$tag" --build-arg BASE="$base" --build-arg PG_MAJOR="$major" --build-arg GIS="$gis" \
    --label org.opencontainers.image.revision="$(git rev-parse HEAD)" -t "$tag" "$ctx"
}

build_operator() { # tag
  local ctx
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' RETURN
  cp images/operator/Dockerfile "$ctx/"
  CGO_ENABLED=0 GOWORK=off go build -trimpath -ldflags '-s -w' -o "$ctx/tenure-operator" ./cmd/tenure-operator
  dbuild "$1" -t "$1" "$ctx"
}

if [ "${1:-}" = --tag ]; then
  tag_of "${2:?variant}"
  exit 0
fi
[ $# -gt 0 ] || set -- 15
for v in "$@"; do
  tag=$(tag_of "$v")
  if docker image inspect "$tag" >/dev/null 2>&1; then
    echo "$tag"
    continue
  fi
  began=$SECONDS
  case $v in
    operator)
      if [ ! -d cmd/tenure-operator ]; then
        echo "images: no cmd/tenure-operator yet: operator image skipped" >&2
        continue
      fi
      build_operator "$tag" ;;
    15 | 15-gis | 17 | 17-gis) build_postgres "$v" "$tag" ;;
    *) echo "images: unknown variant $v" >&2; exit 2 ;;
  esac
  echo "images: built $tag in $((SECONDS - began)) s" >&2
  echo "$tag"
done
