#!/usr/bin/env bash
# Builds Zephyr's image from app/Dockerfile with whichever OCI engine is present: Docker with BuildKit (buildx), else
# podman, else buildah. `make image` / `npm run image` build the production (runtime) target, `make image-dev` the
# skaffold dev target.
#
#   app/deploy/image.sh [--target runtime|dev] [--tag NAME] [--extra-ca FILE] [--node-image REF]
#
# --extra-ca FILE   a CA bundle for a TLS-intercepting proxy between the build and the npm registry; passed as the
#                   build secret extra_ca, so it is used by the npm steps and never stored in a layer
# --node-image REF  the Node.js base (default: the Dockerfile's node:20-bookworm-slim); pin it by digest for releases
# Environment: ZEPHYR_ENGINE=docker|podman|buildah picks the engine; EXTRA_CA and NODE_IMAGE as the options above.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
target=runtime
tag=""
extra_ca="${EXTRA_CA:-}"
node_image="${NODE_IMAGE:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    --extra-ca) extra_ca="$2"; shift 2 ;;
    --node-image) node_image="$2"; shift 2 ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "image.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$target" in
  runtime) tag="${tag:-zephyr:local}" ;;
  dev) tag="${tag:-zephyr:dev}" ;;
  *) echo "image.sh: --target is runtime or dev, not $target" >&2; exit 2 ;;
esac
if [ -n "$extra_ca" ] && [ ! -s "$extra_ca" ]; then
  echo "image.sh: extra CA file $extra_ca is missing or empty" >&2
  exit 2
fi

engine="${ZEPHYR_ENGINE:-}"
if [ -z "$engine" ]; then
  if command -v docker >/dev/null && docker buildx version >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    engine=docker
  elif command -v podman >/dev/null; then
    engine=podman
  elif command -v buildah >/dev/null; then
    engine=buildah
  else
    echo "image.sh: no OCI engine found: install Docker (with buildx), podman or buildah" >&2
    exit 1
  fi
fi
# Engine settings for sandboxes like CI's, written by .ci/setup.d/60-podman.sh; an explicit CONTAINERS_CONF wins.
if [ -z "${CONTAINERS_CONF:-}" ] && [ -f "$root/.cache/containers/containers.conf" ]; then
  export CONTAINERS_CONF="$root/.cache/containers/containers.conf"
fi

args=(--file "$root/app/Dockerfile" --target "$target" --tag "$tag")
[ -n "$node_image" ] && args+=(--build-arg "NODE_IMAGE=$node_image")
[ -n "$extra_ca" ] && args+=(--secret "id=extra_ca,src=$extra_ca")
case "$engine" in
  docker) cmd=(docker buildx build --load "${args[@]}") ;;
  # --pull=never for a local base (localhost/…), so podman does not try a registry first.
  podman | buildah)
    pull=()
    [[ "$node_image" == localhost/* ]] && pull=(--pull=never)
    if [ "$engine" = podman ]; then cmd=(podman build "${pull[@]}" "${args[@]}"); else cmd=(buildah build "${pull[@]}" "${args[@]}"); fi
    ;;
  *) echo "image.sh: ZEPHYR_ENGINE is docker, podman or buildah, not $engine" >&2; exit 2 ;;
esac
echo "image.sh: ${cmd[*]} $root" >&2
"${cmd[@]}" "$root"
