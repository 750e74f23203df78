#!/usr/bin/env bash
# Builds relayctl as a single executable for Linux x64 and arm64 (Node's single executable
# applications): dist/sea/relayctl-linux-x64 and dist/sea/relayctl-linux-arm64 at the repo root.
#
#   1. esbuild bundles mgmt-server/src/relayctl/relayctl.ts and everything it imports into one
#      CommonJS file (a single executable runs one script and cannot require files beside it);
#   2. `node --experimental-sea-config` turns it into a blob (Node 24 has no --build-sea yet);
#   3. postject injects the blob into a copy of each platform's node binary, the npm packages
#      node-linux-<arch>@NODE_VERSION of ./dev, cached like ./dev caches its own Node.
#
# The blob carries neither a code cache nor a snapshot, so the one blob made by this machine's
# Node suits both architectures and the arm64 binary is made without an arm64 machine. A binary
# whose inputs (bundle, Node version, config) did not change is kept: a rebuild takes seconds.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
cache=${KUBERELAY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kuberelay}
node_version=$(sed -n 's/^NODE_VERSION=\([0-9.]*\)$/\1/p' dev)
[ -n "$node_version" ] || { echo "build-sea: no NODE_VERSION=x.y.z line in ./dev" >&2; exit 1; }
out=dist/sea
# The fuse postject flips so that node looks for the blob (fixed by Node's sources).
fuse=NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2
say() { echo "build-sea: $*" >&2; }

case "$(uname -m)" in
  x86_64) host=x64 ;; aarch64|arm64) host=arm64 ;; *) say "no Node package for $(uname -m)"; exit 1 ;;
esac

# The node binary of an architecture, installed on first use. The host's is the one ./dev
# installs (same place); another architecture gets a folder of its own, since an `npm install
# --no-save` into ./dev's folder would remove ./dev's Node as extraneous.
node_binary() {
  local arch=$1 prefix="$cache/node/$node_version"
  [ "$arch" = "$host" ] || prefix="$prefix/$arch"
  local bin="$prefix/node_modules/node-linux-$arch/bin/node"
  if [ ! -x "$bin" ]; then
    command -v npm >/dev/null || { say "npm is needed to fetch node-linux-$arch@$node_version"; exit 1; }
    say "installing node-linux-$arch@$node_version into $prefix"
    mkdir -p "$prefix"
    # The package declares its cpu and npm refuses another one (EBADPLATFORM) unless forced; the
    # binary is only copied here, never run.
    local force=
    [ "$arch" = "$host" ] || force=--force
    npm install --prefix "$prefix" --no-save --ignore-scripts --no-audit --no-fund --loglevel=error \
      $force "node-linux-$arch@$node_version" >&2 ||
      { say "could not install node-linux-$arch@$node_version from the npm registry"; exit 1; }
  fi
  echo "$bin"
}

host_node=$(node_binary "$host")
mkdir -p "$out"
start=$SECONDS
node_modules/.bin/esbuild mgmt-server/src/relayctl/relayctl.ts --bundle --platform=node \
  --target=node24 --format=cjs --conditions=@kuberelay/source --log-level=warning \
  --outfile="$out/relayctl.cjs"
cat >"$out/sea-config.json" <<JSON
{
  "main": "$out/relayctl.cjs",
  "output": "$out/relayctl.blob",
  "disableExperimentalSEAWarning": true,
  "useCodeCache": false,
  "useSnapshot": false
}
JSON
key=$({ echo "$node_version"; cat "$out/sea-config.json" "$out/relayctl.cjs" node_modules/postject/package.json; } |
  sha256sum | cut -d' ' -f1)

# Made at most once per run, from this run's bundle: never reuse one an interrupted run left.
rm -f "$out/relayctl.blob"
for arch in x64 arm64; do
  target="$out/relayctl-linux-$arch"
  if [ -x "$target" ] && [ "$(cat "$target.key" 2>/dev/null)" = "$key" ]; then
    say "$target is up to date"
    continue
  fi
  [ -f "$out/relayctl.blob" ] || "$host_node" --experimental-sea-config "$out/sea-config.json" >/dev/null
  base=$(node_binary "$arch")
  rm -f "$target" "$target.key"
  cp "$base" "$target.tmp"
  chmod u+w "$target.tmp"
  # LIEF (inside postject) warns about each ELF note section it re-lays; they are harmless.
  node_modules/.bin/postject "$target.tmp" NODE_SEA_BLOB "$out/relayctl.blob" --sentinel-fuse "$fuse" 2>&1 |
    { grep -v -e "Can't find string offset for section name" -e 'Start injection' -e 'Injection done' >&2 || true; }
  mv "$target.tmp" "$target"
  echo "$key" >"$target.key"
  say "wrote $target ($(($(stat -c %s "$target") / 1048576)) MiB)"
done
rm -f "$out/relayctl.blob"
say "done in $((SECONDS - start)) s"
