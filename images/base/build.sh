#!/usr/bin/env bash
# images/base/build.sh: the base image the Dockerfiles here are built FROM
# on a machine with no image registry. It makes a Debian minbase root
# filesystem with debootstrap (about 95 s the first time), keeps it as a
# tarball in a cache directory outside the repository, and `docker
# import`s it as tenure/debian-base:<suite>-<hash of this script>.
# Idempotent: with the image present it only prints the tag (well under a
# second); with the tarball cached it only imports it.
#
# On a machine with a registry none of this is needed: the Dockerfiles'
# default ARG BASE is debian:bookworm-slim.
#
# Usage: images/base/build.sh [suite]   (default bookworm); prints the tag.
set -euo pipefail
suite=${1:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${TENURE_CACHE:-$HOME/.cache/tenure}/images
here=$(cd "$(dirname "$0")" && pwd)
hash=$(cat "$here/build.sh" | sha256sum | cut -c1-12)
tag=tenure/debian-base:$suite-$hash
tarball=$cache/debian-$suite-minbase-$hash.tar

if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "$tag"
  exit 0
fi
mkdir -p "$cache"
if [ ! -s "$tarball" ]; then
  if ! command -v debootstrap >/dev/null; then
    echo "base: installing debootstrap" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >&2
  fi
  root=$(mktemp -d "$cache/rootfs-$suite.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  began=$SECONDS
  echo "base: debootstrap --variant=minbase $suite into $root" >&2
  debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$cache/debootstrap-$suite.log" 2>&1 ||
    { tail -n 30 "$cache/debootstrap-$suite.log" >&2; exit 1; }
  # What debian:*-slim leaves out too: apt lists, caches, docs, manuals.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log
  # The sources apt in the images installs from, like the slim images'.
  printf 'deb %s %s main\n' "$mirror" "$suite" >"$root/etc/apt/sources.list"
  # Keep docs, manuals and locales out of every later layer, as -slim does.
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker-minimal" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CFG
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$root/etc/apt/apt.conf.d/docker-no-recommends"
  tar --numeric-owner -C "$root" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  echo "base: rootfs made in $((SECONDS - began)) s: $tarball" >&2
fi
docker import --change 'CMD ["/bin/bash"]' "$tarball" "$tag" >/dev/null
echo "base: imported $tag" >&2
echo "$tag"
