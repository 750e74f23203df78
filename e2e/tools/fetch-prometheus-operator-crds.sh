#!/usr/bin/env bash
# Fetches the prometheus-operator's ServiceMonitor and PrometheusRule CRDs (the chart's optional
# monitoring objects) and caches them outside the repo, keyed by version:
#   ${KUBERELAY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kuberelay}/prometheus-operator/<version>/*.yaml
# They come from the Go module github.com/prometheus-operator/prometheus-operator at
# PROMETHEUS_OPERATOR_VERSION (versions.env), through the Go module proxy: its zip holds
# example/prometheus-operator-crd/, the files the operator's release bundles. Prints the folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
version=$PROMETHEUS_OPERATOR_VERSION
module=github.com/prometheus-operator/prometheus-operator
cache=${KUBERELAY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kuberelay}
out="$cache/prometheus-operator/$version"
files=(monitoring.coreos.com_servicemonitors.yaml monitoring.coreos.com_prometheusrules.yaml)
if [ -f "$out/.complete" ]; then
  echo "$out"
  exit 0
fi
command -v go >/dev/null || { echo "prometheus-operator CRDs: Go is needed to fetch $module@$version" >&2; exit 1; }
mkdir -p "$cache/prometheus-operator"
tmp=$(mktemp -d "$cache/prometheus-operator/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "prometheus-operator CRDs: fetching $module@$version through the Go module proxy" >&2
if ! (cd "$tmp" && GOFLAGS= go mod download -json "$module@$version") >"$tmp/download.json" 2>"$tmp/download.err"; then
  echo "prometheus-operator CRDs: could not download $module@$version: $(cat "$tmp/download.json" "$tmp/download.err")" >&2
  exit 1
fi
dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' "$tmp/download.json")
mkdir -p "$tmp/crds"
for f in "${files[@]}"; do
  [ -f "$dir/example/prometheus-operator-crd/$f" ] || { echo "prometheus-operator CRDs: $module@$version has no example/prometheus-operator-crd/$f" >&2; exit 1; }
  cp "$dir/example/prometheus-operator-crd/$f" "$tmp/crds/"
done
touch "$tmp/crds/.complete"
# Concurrent runs: the first to finish moves its folder into place; the others keep theirs away.
mv -T "$tmp/crds" "$out" 2>/dev/null || true
echo "$out"
