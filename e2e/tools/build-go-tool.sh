#!/usr/bin/env bash
# Builds a Go tool the tests need from the Go module proxy, at the version versions.env pins, and
# caches it outside the repo, keyed by version:
#   ${KUBERELAY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kuberelay}/<tool>/<version>/<tool>
#
#   build-go-tool.sh helm       helm.sh/helm/v4/cmd/helm@HELM_VERSION (the chart tests)
#   build-go-tool.sh promtool   github.com/prometheus/prometheus/cmd/promtool@PROMETHEUS_VERSION
#                               (`promtool check rules` and `test rules` on the shipped alerts)
#
# Idempotent: a second run with the binary present returns at once. Prints the binary's path
# last, on stdout, so callers can take it with $(...).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
tool=${1:-}
case "$tool" in
  helm)
    version=$HELM_VERSION
    major=${version%%.*}
    package="helm.sh/helm/$major/cmd/helm"
    # The version ldflags make `helm version` tell the truth (as helm's own Makefile sets them).
    ldflags="-s -w -X helm.sh/helm/$major/internal/version.version=$version"
    cold="~6 minutes"
    ;;
  promtool)
    version=$PROMETHEUS_VERSION
    package="github.com/prometheus/prometheus/cmd/promtool"
    # As Prometheus's own release build stamps it (common/version), so `promtool --version` says.
    ldflags="-s -w -X github.com/prometheus/common/version.Version=$version"
    cold="~8 minutes"
    ;;
  *)
    echo "usage: build-go-tool.sh helm|promtool" >&2
    exit 2
    ;;
esac
cache=${KUBERELAY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kuberelay}
out="$cache/$tool/$version"
if [ -x "$out/$tool" ] && [ -f "$out/.complete" ]; then
  echo "$tool: cached in $out" >&2
  echo "$out/$tool"
  exit 0
fi
command -v go >/dev/null || { echo "$tool: Go is needed to build $tool (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "$tool: building $tool $version from the Go module proxy (cold: $cold on 2 cores; progress below)" >&2
start=$SECONDS
log="$tmp/build.log"
# `go install pkg@version` builds with the tool's own go.mod (its pinned dependencies), not ours.
if ! CGO_ENABLED=0 GOBIN="$tmp" go install -v -trimpath -ldflags "$ldflags" "$package@$version" 2>&1 |
  tee "$log" | awk -v t="$tool" '{n++} n%100==0 {printf "%s:   ... %d packages compiled\n", t, n; fflush()}' >&2; then
  echo "$tool: build failed; last lines:" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
mv -f "$tmp/$tool" "$out/$tool"
touch "$out/.complete"
echo "$tool: built in $((SECONDS-start)) s, cached in $out" >&2
echo "$out/$tool"
