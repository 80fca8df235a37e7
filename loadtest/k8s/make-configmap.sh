#!/usr/bin/env bash
# Packs every scenario as a k6 archive (TypeScript + its lib/ imports in one file, what the operator mounts)
# into the zephyr-k6-scripts ConfigMap, and writes zephyr-k6-env with the per-pod URLs the cross-instance
# scenario pins its sockets to. Needs kubectl and either k6 >= 1.6 or docker.
set -euo pipefail
NAMESPACE="${NAMESPACE:-zephyr}"
SELECTOR="${SELECTOR:-app.kubernetes.io/name=zephyr}"
PORT="${ZEPHYR_PORT:-4000}"
K6_IMAGE="${K6_IMAGE:-grafana/k6:1.6.0}"
cd "$(dirname "$0")/.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
k6() {
  if command -v k6 >/dev/null; then command k6 "$@"
  else docker run --rm -u "$(id -u)" -v "$PWD:/src" -v "$out:/out" -w /src "$K6_IMAGE" "$@"; fi
}
args=()
for f in scenarios/*.ts; do
  name="$(basename "$f" .ts)"
  dest="$out/$name.tar"
  command -v k6 >/dev/null || dest="/out/$name.tar"
  k6 archive "$f" -O "$dest"
  args+=(--from-file="$name.tar=$out/$name.tar")
done
kubectl -n "$NAMESPACE" create configmap zephyr-k6-scripts "${args[@]}" --dry-run=client -o yaml | kubectl apply -f -
urls="$(kubectl -n "$NAMESPACE" get pods -l "$SELECTOR" --field-selector=status.phase=Running \
  -o jsonpath="{range .items[*]}http://{.status.podIP}:$PORT,{end}")"
kubectl -n "$NAMESPACE" create configmap zephyr-k6-env --from-literal=INSTANCE_URLS="${urls%,}" \
  --dry-run=client -o yaml | kubectl apply -f -
echo "scripts: $(ls "$out" | tr '\n' ' ')"
echo "INSTANCE_URLS=${urls%,}"
