#!/usr/bin/env bash
# Pinned Kubernetes control plane for chart/test/controlplane: kube-apiserver, kube-controller-manager, kube-scheduler
# (kwok fakes nodes and pod status but never binds pods, so something has to schedule them), etcd and kwok, and the
# metrics APIs the HPA reads (metrics-server; custom-metrics-apiserver's test adapter, see kube/cmd/),
# built from the Go module proxy into the git-ignored bin/ (no prebuilt binaries or images can be fetched here).
# The wrapper modules (go.mod + go.sum) under chart/test/controlplane/{kube,etcd} pin every dependency; this script
# pins the tool versions and checks the binaries against them, so a present and matching set costs well under a second.
# Usage: ROOT=… bash .ci/setup.d/50-controlplane.sh   (.ci/setup sets ROOT; FORCE=1 rebuilds even when present)
set -euo pipefail
ROOT="${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
K8S_VERSION=v1.37.2 # must match `require k8s.io/kubernetes` and the v0.37.x staging replaces in kube/go.mod
ETCD_VERSION=v3.6.16 # must match `require go.etcd.io/etcd/server/v3` in etcd/go.mod
KWOK_VERSION=v0.8.0  # v0.8.0 declares go 1.26.0, so it builds with the installed Go; no GOTOOLCHAIN download needed
METRICS_SERVER_VERSION=v0.9.0 # must match `sigs.k8s.io/metrics-server` in kube/go.mod; v0.8.0 built against Kubernetes 1.37's libraries panics at start-up (an OpenAPI model it looks for is no longer generated under that name)
CUSTOM_METRICS_APISERVER_VERSION=v1.37.0 # must match `require sigs.k8s.io/custom-metrics-apiserver` in kube/go.mod
bin="$ROOT/bin"
wrappers="$ROOT/chart/test/controlplane"

# Prints the versions the binaries in bin/ report; the same function states what a match must look like.
installed() {
  "$bin/kube-apiserver" --version 2>/dev/null | head -1
  "$bin/kube-controller-manager" --version 2>/dev/null | head -1
  "$bin/kube-scheduler" --version 2>/dev/null | head -1
  "$bin/etcd" --version 2>/dev/null | head -1
  "$bin/kwok" --version 2>/dev/null | head -1
  "$bin/metrics-server" --version 2>/dev/null | head -1
  "$bin/custom-metrics-test-adapter" --version 2>/dev/null | head -1
}
wanted() {
  echo "Kubernetes $K8S_VERSION"
  echo "Kubernetes $K8S_VERSION"
  echo "Kubernetes $K8S_VERSION"
  echo "etcd Version: ${ETCD_VERSION#v}"
  echo "kwok version v${KWOK_VERSION#v}"
  echo "$METRICS_SERVER_VERSION"
  echo "sigs.k8s.io/custom-metrics-apiserver $CUSTOM_METRICS_APISERVER_VERSION"
}
# kwok appends the Go version and platform ("kwok version v0.8.0 go1.26.8 (linux/amd64)"): not part of the pin.
matches() { [ "$(installed | sed -E 's/ go1[.0-9]+ \(.*\)$//')" = "$(wanted)" ]; }
if [ "${FORCE:-}" != 1 ] && matches; then
  exit 0
fi

export CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"
mkdir -p "$bin"
tmp="$(mktemp -d "$bin/.controlplane-build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS

echo "building kube-apiserver, kube-controller-manager, kube-scheduler $K8S_VERSION and the metrics APIs into bin/"
# The same -X set as kubernetes' hack/lib/version.sh; without it the binaries report v0.0.0 and helm's
# kubeVersion constraint (>=1.27) rejects the cluster.
minor="${K8S_VERSION#v1.}"
minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
(cd "$wrappers/kube" && grep -q "k8s.io/kubernetes $K8S_VERSION" go.mod &&
  grep -q "sigs.k8s.io/metrics-server $METRICS_SERVER_VERSION" go.mod &&
  grep -q "sigs.k8s.io/custom-metrics-apiserver $CUSTOM_METRICS_APISERVER_VERSION" go.mod &&
  go build -trimpath -ldflags "$ldflags" -o "$tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
    ./cmd/custom-metrics-test-adapter &&
  # Its own link step: metrics-server reports client-go's version, which must be its own, not Kubernetes'. -X only
  # changes the link, so every package compiled above is reused from the build cache.
  go build -trimpath -ldflags "-s -w -X k8s.io/client-go/pkg/version.gitVersion=$METRICS_SERVER_VERSION" -o "$tmp/" \
    sigs.k8s.io/metrics-server/cmd/metrics-server)

echo "building etcd $ETCD_VERSION into bin/"
(cd "$wrappers/etcd" && grep -q "go.etcd.io/etcd/server/v3 $ETCD_VERSION" go.mod &&
  go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3)

echo "building kwok $KWOK_VERSION into bin/"
# kwok's go.mod has no replaces, so `go install @version` pins it through the module proxy's checksum database.
GOBIN="$tmp" go install -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" \
  "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"

mv -f "$tmp"/kube-apiserver "$tmp"/kube-controller-manager "$tmp"/kube-scheduler "$tmp"/etcd "$tmp"/kwok \
  "$tmp"/metrics-server "$tmp"/custom-metrics-test-adapter "$bin/"
if ! matches; then
  echo "control-plane binaries do not report the pinned versions:" >&2
  diff <(wanted) <(installed) >&2 || true
  exit 1
fi
echo "control plane built in $((SECONDS - start))s"
