#!/usr/bin/env bash
# Compose run for real (app/test/deploy/compose-run.test.ts): podman-compose from PyPI in a venv, and
# test-only images for the compose file's PostgreSQL, Redis and nginx built from Debian's packages on the stand-in base
# (61-node-base.sh), because no container registry is reachable here to pull the official ones.
# Debian's podman-compose (1.0.3) is too old for the file; 1.6 reads it (its `service_healthy` waiting needs a newer
# podman, which the test's override file and health loop stand in for).
# Each image is built once per recipe version below (tag exists: skipped); the venv once per podman-compose version.
set -euo pipefail
PODMAN_COMPOSE_VERSION=1.6.0
RECIPE=1 # bump when test/compose/*.Containerfile or the entrypoint change
export CONTAINERS_CONF="$ROOT/.cache/containers/containers.conf"
cache="$ROOT/.cache/containers"

# iproute2: the test gives its clients source addresses of their own (app/test/deploy/client-addresses.ts).
bash "$ROOT/.ci/apt-install" iproute2

# In the machine-wide cache (.ci/setup sets ZEPHYR_CI_CACHE; run alone, the git-ignored .cache/), so a new clone does
# not reinstall it. The physical path: the venv's scripts carry it in their shebangs, and the directory may be a symlink.
venvs="${ZEPHYR_CI_CACHE:-$ROOT/.cache}"
mkdir -p "$ROOT/.cache" "$venvs"
venv="$(cd "$venvs" && pwd -P)/podman-compose-$PODMAN_COMPOSE_VERSION"
if [ "$("$venv/bin/podman-compose" --version 2>/dev/null | sed -n 's/^podman-compose version //p')" != "$PODMAN_COMPOSE_VERSION" ]; then
  echo "installing podman-compose $PODMAN_COMPOSE_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "podman-compose==$PODMAN_COMPOSE_VERSION"
fi
mkdir -p "$ROOT/bin"
ln -sf "$venv/bin/podman-compose" "$ROOT/bin/podman-compose"

base="$(cat "$cache/node-image")"
podman image exists "$base" || { echo "62-compose.sh: base image $base missing (61-node-base.sh makes it)" >&2; exit 1; }
base_id="$(podman image inspect --format '{{.Id}}' "$base")"
images=""
for svc in postgres redis nginx; do
  case "$svc" in postgres) version=15 ;; redis) version=7.0 ;; nginx) version=1.22 ;; esac
  tag="localhost/zephyr-ci/compose-$svc:$version-r$RECIPE"
  # Also rebuilt when the base was rebuilt under the same tag (a new base recipe gets a new tag anyway).
  if [ "$(podman image inspect --format '{{index .Labels "zephyr.base"}}' "$tag" 2>/dev/null)" != "$base_id" ]; then
    start=$SECONDS
    echo "building $tag"
    podman build --quiet --pull=never --build-arg "BASE=$base" --label "zephyr.base=$base_id" \
      --file "$ROOT/test/compose/$svc.Containerfile" --tag "$tag" "$ROOT/test/compose" >/dev/null
    echo "built $tag in $((SECONDS - start))s ($(podman image inspect --format '{{.Size}}' "$tag" | numfmt --to=si)B)"
  fi
  images+="${svc}=${tag}"$'\n'
done
# The test reads the tags from here, so this script stays their one source.
printf '%s' "$images" >"$cache/compose-images.new"
mv -f "$cache/compose-images.new" "$cache/compose-images"
