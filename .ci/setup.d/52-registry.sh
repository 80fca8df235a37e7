#!/usr/bin/env bash
# Pinned OCI registry (CNCF distribution, the `registry` of Docker Hub's registry image) for the release-path test in
# chart/test/controlplane: the image is pushed to it with podman, the chart with `helm push`, and the release installed
# from oci:// on loopback. Built from the Go module proxy into the git-ignored bin/ (no registry image can be pulled).
# Usage: ROOT=… bash .ci/setup.d/52-registry.sh   (.ci/setup sets ROOT; FORCE=1 rebuilds even when present)
set -euo pipefail
ROOT="${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
REGISTRY_VERSION=v3.1.2 # declares go 1.26.0, so it builds with the installed Go
pkg=github.com/distribution/distribution/v3
bin="$ROOT/bin/registry"
# `registry --version` prints "<argv0> <module> <version>"; a plain `go install` would report "v3.1.2+unknown".
installed() { "$bin" --version 2>/dev/null | awk '{print $2, $3}'; }
if [ "${FORCE:-}" != 1 ] && [ -x "$bin" ] && [ "$(installed)" = "$pkg $REGISTRY_VERSION" ]; then
  exit 0
fi
echo "building registry $REGISTRY_VERSION into bin/"
start=$SECONDS
GOBIN="$ROOT/bin" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w -X $pkg/version.version=$REGISTRY_VERSION" \
  "$pkg/cmd/registry@$REGISTRY_VERSION"
[ "$(installed)" = "$pkg $REGISTRY_VERSION" ]
echo "registry built in $((SECONDS - start))s"
