#!/usr/bin/env bash
# Pinned actionlint for the GitHub Actions workflows in .github/workflows (test/workflows.test.ts), built from the Go
# module proxy into the git-ignored bin/, and Debian's shellcheck, which actionlint runs on every `run:` script when it
# finds it on PATH (without it the shell in the workflows goes unchecked).
# Usage: ROOT=… bash .ci/setup.d/43-actionlint.sh   (.ci/setup sets ROOT; FORCE=1 rebuilds even when present)
set -euo pipefail
ROOT="${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
ACTIONLINT_VERSION=v1.7.12 # declares go 1.25, so it builds with the installed Go
bash "$ROOT/.ci/apt-install" shellcheck
bin="$ROOT/bin/actionlint"
# actionlint reports the module version from its build info when no -X version is given.
if [ "${FORCE:-}" != 1 ] && [ -x "$bin" ] && [ "$("$bin" -version 2>/dev/null | head -1)" = "$ACTIONLINT_VERSION" ]; then
  exit 0
fi
echo "building actionlint $ACTIONLINT_VERSION into bin/"
start=$SECONDS
GOBIN="$ROOT/bin" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" \
  "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
[ "$("$bin" -version | head -1)" = "$ACTIONLINT_VERSION" ]
echo "actionlint built in $((SECONDS - start))s"
