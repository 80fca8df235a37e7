#!/usr/bin/env bash
# Validator for the chart's Gateway API HTTPRoute (a CRD, unknown to kubernetes-validate): built from
# chart/test/httproute-validate against the pinned sigs.k8s.io/gateway-api module, whose standard-channel
# HTTPRoute CRD is copied next to it. Rebuilt only when its sources or go.sum change.
set -euo pipefail
src="$ROOT/chart/test/httproute-validate"
bin="$ROOT/bin/httproute-validate"
crd="$ROOT/.cache/gateway-api/httproutes.yaml"
stamp="$ROOT/.cache/gateway-api/build.sha256"
want="$(cat "$src"/go.mod "$src"/go.sum "$src"/*.go | sha256sum | cut -d' ' -f1)"
if [ -x "$bin" ] && [ -f "$crd" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
echo "building httproute-validate into bin/"
mkdir -p "$ROOT/.cache/gateway-api"
(cd "$src" && go build -trimpath -o "$bin" . \
  && cp "$(go list -m -f '{{.Dir}}' sigs.k8s.io/gateway-api)/config/crd/standard/gateway.networking.k8s.io_httproutes.yaml" "$crd")
chmod u+w "$crd"
echo "$want" > "$stamp"
