#!/usr/bin/env bash
# kubernetes-validate (strict Kubernetes JSON schemas, offline) in a venv per version, in the machine-wide cache
# (.ci/setup sets ZEPHYR_CI_CACHE; run alone, the git-ignored .cache/), so a new clone does not reinstall it; bin/ gets a link.
set -euo pipefail
KV_VERSION=1.37.0
venv="${ZEPHYR_CI_CACHE:-$ROOT/.cache}/venv/kubernetes-validate-$KV_VERSION"
if [ -x "$venv/bin/kubernetes-validate" ] && [ "$("$venv/bin/kubernetes-validate" --version 2>/dev/null)" = "$KV_VERSION" ]; then
  :
else
  echo "installing kubernetes-validate $KV_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KV_VERSION"
fi
mkdir -p "$ROOT/bin"
ln -sf "$venv/bin/kubernetes-validate" "$ROOT/bin/kubernetes-validate"
