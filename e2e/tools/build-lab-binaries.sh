#!/usr/bin/env bash
# Builds kube-apiserver and etcd for the local lab from the Go module proxy and caches them
# outside the repo, keyed by version:
#   ${KUBERELAY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kuberelay}/k8s/<k8s-version>/{kube-apiserver,etcd}
# Idempotent: a second run with the binaries present returns at once.
# Flags follow upstream's release builds: CGO off, -trimpath, and version ldflags so that
# /version (and `etcd --version`) tell the truth.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
k8s=$K8S_VERSION
etcd=$(sed -n 's/^[[:space:]]*go\.etcd\.io\/etcd\/server\/v3 \(v[^ ]*\).*$/\1/p' "$here/go.mod" | head -n1)
cache=${KUBERELAY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kuberelay}
out="$cache/k8s/$k8s"

if [ -x "$out/kube-apiserver" ] && [ -x "$out/etcd" ] && [ -f "$out/.complete" ]; then
  echo "lab binaries: cached in $out"
  exit 0
fi
command -v go >/dev/null || { echo "lab binaries: Go is needed to build kube-apiserver and etcd (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

minor=${k8s#v1.}; minor=${minor%%.*}
build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
kv=k8s.io/component-base/version
cv=k8s.io/client-go/pkg/version
k8s_ldflags="-s -w"
for pkg in $kv $cv; do
  k8s_ldflags+=" -X $pkg.gitVersion=$k8s -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  k8s_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done

cd "$here"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
echo "lab binaries: building kube-apiserver $k8s (cold: several minutes on 2 cores; progress below)"
start=$SECONDS
# `go build -v` names each package as it compiles; we count them for progress and keep the full
# output in a log so a failure shows its real error.
log="$tmp/build.log"
if ! go build -v -trimpath -ldflags "$k8s_ldflags" -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver 2>&1 |
  tee "$log" | awk '{n++} n%200==0 {printf "lab binaries:   ... %d packages compiled\n", n; fflush()}'; then
  echo "lab binaries: kube-apiserver build failed; last lines:" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
echo "lab binaries: kube-apiserver built in $((SECONDS-start)) s"
start=$SECONDS
echo "lab binaries: building etcd $etcd"
go build -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$etcd" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
echo "lab binaries: etcd built in $((SECONDS-start)) s"
mv -f "$tmp/kube-apiserver" "$tmp/etcd" "$out/"
touch "$out/.complete"
echo "lab binaries: cached in $out"
