#!/usr/bin/env bash
# A machine-wide cache of what every clean clone would otherwise rebuild from the package and Go caches:
# node_modules (npm ci, ~30 s) and the pinned Go tools in bin/ (relinking the control plane alone, ~35 s).
# Usage: bash .ci/clone-cache.sh restore|save   (from .ci/setup, before and after its steps)
# Each entry is keyed by everything that decides its content, so a changed pin or lockfile misses the cache and the
# setup steps build as on a fresh machine; only the newest entry of each kind is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${ZEPHYR_CI_CACHE:?set by .ci/setup}"

# The lockfile and the Node.js that runs install scripts decide node_modules.
node_key() { { cat package-lock.json; node --version; } | sha256sum | cut -c1-16; }
# The setup scripts (versions, flags) and the Go modules and sources they build from decide bin/.
tools_key() {
  {
    git ls-files -s .ci/setup.d chart/test/controlplane/kube chart/test/controlplane/etcd chart/test/httproute-validate
    go version 2>/dev/null || true
  } | sha256sum | cut -c1-16
}

# Copies $1 to $2 through a temporary name, so a cut-off copy never looks complete ($3: more cp flags).
copy() {
  rm -rf "$2.partial"
  mkdir -p "$(dirname "$2")"
  cp -a ${3:+"$3"} "$1" "$2.partial"
  mv "$2.partial" "$2"
}

restore() {
  local n t
  n="$cache/node_modules/$(node_key)"
  t="$cache/tools/$(tools_key)"
  if [ ! -d node_modules ] && [ -d "$n" ]; then
    echo "node_modules from the machine cache ($n)"
    copy "$n" node_modules
    # The key holds the lockfile's content; a fresh clone's lockfile is merely newer (.ci/setup.d/20-npm.sh).
    touch node_modules/.package-lock.json
  fi
  if [ ! -d bin ] && [ -d "$t/bin" ]; then
    echo "bin/ from the machine cache ($t)"
    # Hard links: the setup steps replace a tool (mv, ln -sf), never write into one.
    copy "$t/bin" bin --link
    [ -d "$t/gateway-api" ] && copy "$t/gateway-api" .cache/gateway-api
  fi
  return 0
}

save() {
  local n t
  n="$cache/node_modules/$(node_key)"
  t="$cache/tools/$(tools_key)"
  if [ ! -d "$n" ] && [ -d node_modules ]; then
    rm -rf "$cache/node_modules"
    copy node_modules "$n"
  fi
  if [ ! -d "$t" ] && [ -d bin ]; then
    rm -rf "$cache/tools"
    copy bin "$t/bin"
    [ -d .cache/gateway-api ] && copy .cache/gateway-api "$t/gateway-api"
  fi
  return 0
}

"$@"
