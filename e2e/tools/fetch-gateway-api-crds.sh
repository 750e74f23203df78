#!/usr/bin/env bash
# Fetches the Gateway API CRDs of the standard channel for the local lab and caches them outside
# the repo, keyed by version (same cache as the lab binaries):
#   ${KUBERELAY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kuberelay}/gateway-api/<version>/*.yaml
#
#   bash e2e/tools/fetch-gateway-api-crds.sh            # the lab's default (versions.env), v1.2.1
#   bash e2e/tools/fetch-gateway-api-crds.sh v1.1.0     # any released version
#
# The CRDs come from the Go module sigs.k8s.io/gateway-api at that version, through the Go module
# proxy (`go mod download`, checked against the checksum database like any Go dependency): its
# module zip holds config/crd/standard/, the files the release's standard-install.yaml is built
# from (config/crd/kustomization.yaml lists them). Nothing is copied into the repo.
# Idempotent: a second run with the version cached returns at once. Concurrent runs are safe: each
# fills a private folder and the first to finish moves it into place.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
default_version=$GATEWAY_API_VERSION
version=${1:-$default_version}
cache=${KUBERELAY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kuberelay}
out="$cache/gateway-api/$version"

say() { echo "gateway-api CRDs: $*"; }
die() { echo "gateway-api CRDs: error: $*" >&2; exit 1; }

case "$version" in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
esac
[[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
  die "\"$version\" is not a Gateway API release version (like $default_version)"

if [ -f "$out/.complete" ]; then
  say "$version cached in $out"
  exit 0
fi
command -v go >/dev/null || die "Go is needed to fetch sigs.k8s.io/gateway-api@$version from the Go module proxy (https://go.dev/dl)"

mkdir -p "$cache/gateway-api"
tmp=$(mktemp -d "$cache/gateway-api/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

say "fetching sigs.k8s.io/gateway-api@$version through the Go module proxy ($(go env GOPROXY))"
# Run outside any module, and without the caller's GOFLAGS (e.g. -mod=mod), so only the module
# itself is downloaded. -json reports where the module was extracted, or why it could not be.
if ! (cd "$tmp" && GOFLAGS= go mod download -json "sigs.k8s.io/gateway-api@$version") >"$tmp/download.json" 2>"$tmp/download.err"; then
  reason=$(sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' "$tmp/download.json")
  # go quotes the proxy's answer with JSON escapes; show it as plain lines.
  die "could not download sigs.k8s.io/gateway-api@$version: $(printf '%s' "${reason:-$(cat "$tmp/download.err")}" | sed 's/\\n\\t/ /g; s/\\n/ /g')"
fi
dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' "$tmp/download.json")
sum=$(sed -n 's/^[[:space:]]*"Sum": "\(.*\)",\{0,1\}$/\1/p' "$tmp/download.json")
standard="$dir/config/crd/standard"
[ -d "$standard" ] || die "sigs.k8s.io/gateway-api@$version has no config/crd/standard/ (looked in $dir)"

# The standard install is CRDs only in v1.1 and v1.2. Files of other kinds (later releases add e.g.
# a ValidatingAdmissionPolicy that guards upgrades) are not CRDs and are skipped, with a line
# saying so; the experimental channel (config/crd/experimental/) is not the standard install.
mkdir -p "$tmp/crds"
count=0
for file in "$standard"/*.yaml; do
  [ -e "$file" ] || continue
  name=$(basename "$file")
  if grep -q '^kind: CustomResourceDefinition$' "$file" && [ "$(grep -c '^kind: ' "$file")" -eq 1 ]; then
    cp "$file" "$tmp/crds/$name"
    chmod 0644 "$tmp/crds/$name"
    count=$((count + 1))
  else
    say "skipping $name: not a single CustomResourceDefinition"
  fi
done
[ "$count" -gt 0 ] || die "sigs.k8s.io/gateway-api@$version: no CRDs in config/crd/standard/"
printf 'module: sigs.k8s.io/gateway-api\nversion: %s\nsum: %s\nfrom: config/crd/standard/\n' \
  "$version" "$sum" >"$tmp/crds/SOURCE"
touch "$tmp/crds/.complete"

# A concurrent run may have won the race: then its copy, identical, stays.
if ! mv -T "$tmp/crds" "$out" 2>/dev/null && [ ! -f "$out/.complete" ]; then
  die "could not move the CRDs into $out"
fi
say "$version: $count CRDs cached in $out"
