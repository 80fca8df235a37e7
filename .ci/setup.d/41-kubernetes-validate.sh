#!/usr/bin/env bash
# kubernetes-validate (strict Kubernetes JSON schemas, offline) in a git-ignored venv; bin/ gets a wrapper.
set -euo pipefail
KV_VERSION=1.37.0
venv="$ROOT/.cache/venv"
if [ -x "$venv/bin/kubernetes-validate" ] && [ "$("$venv/bin/kubernetes-validate" --version 2>/dev/null)" = "$KV_VERSION" ]; then
  :
else
  echo "installing kubernetes-validate $KV_VERSION into .cache/venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KV_VERSION"
fi
mkdir -p "$ROOT/bin"
ln -sf "$venv/bin/kubernetes-validate" "$ROOT/bin/kubernetes-validate"
