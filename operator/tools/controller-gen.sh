#!/usr/bin/env bash
# controller-gen.sh ARGS...: runs controller-gen at the version pinned in
# operator/tools/go.mod, built once into $TENURE_CACHE/bin (about a minute
# cold, from the Go module proxy only). Run from the repository root.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=$(awk '$1 == "require" && $2 == "sigs.k8s.io/controller-tools" {print $3}' "$here/go.mod")
[ -n "$version" ] || { echo "controller-gen.sh: no controller-tools version in $here/go.mod" >&2; exit 1; }
bin="${TENURE_CACHE:-$HOME/.cache/tenure}/bin/controller-gen-$version"
if [ ! -x "$bin" ]; then
	mkdir -p "$(dirname "$bin")"
	echo "controller-gen.sh: building controller-gen $version into $bin" >&2
	(cd "$here" && GOWORK=off go build -o "$bin.tmp" sigs.k8s.io/controller-tools/cmd/controller-gen)
	mv "$bin.tmp" "$bin"
fi
exec "$bin" "$@"
