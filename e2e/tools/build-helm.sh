#!/usr/bin/env bash
# Builds helm from the Go module proxy (helm.sh/helm/v4 at HELM_VERSION in versions.env) and
# caches it outside the repo, keyed by version:
#   ${KUBERELAY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kuberelay}/helm/<version>/helm
# Idempotent: a second run with the binary present returns at once. Prints the binary's path
# last, on stdout, so callers can take it with $(...).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
version=$HELM_VERSION
cache=${KUBERELAY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kuberelay}
out="$cache/helm/$version"
if [ -x "$out/helm" ] && [ -f "$out/.complete" ]; then
  echo "helm: cached in $out" >&2
  echo "$out/helm"
  exit 0
fi
command -v go >/dev/null || { echo "helm: Go is needed to build helm (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
major=${version%%.*}
# The version ldflags make `helm version` tell the truth (as helm's own Makefile sets them).
ldflags="-s -w -X helm.sh/helm/$major/internal/version.version=$version"
echo "helm: building helm $version from the Go module proxy (cold: ~6 minutes on 2 cores; progress below)" >&2
start=$SECONDS
log="$tmp/build.log"
# `go install pkg@version` builds with helm's own go.mod (its pinned dependencies), not ours.
if ! CGO_ENABLED=0 GOBIN="$tmp" go install -v -trimpath -ldflags "$ldflags" "helm.sh/helm/$major/cmd/helm@$version" 2>&1 |
  tee "$log" | awk '{n++} n%100==0 {printf "helm:   ... %d packages compiled\n", n; fflush()}' >&2; then
  echo "helm: build failed; last lines:" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
mv -f "$tmp/helm" "$out/helm"
touch "$out/.complete"
echo "helm: built in $((SECONDS-start)) s, cached in $out" >&2
echo "$out/helm"
