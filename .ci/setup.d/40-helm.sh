#!/usr/bin/env bash
# Pinned helm, built from the Go module proxy into the git-ignored bin/ (no prebuilt binaries can be fetched here).
# A plain `go install` leaves helm's version and default Kubernetes version at their placeholders ("v3.22", v1.20),
# which makes `helm template` reject kubeVersion >=1.27; the ldflags mirror helm's own Makefile.
set -euo pipefail
HELM_VERSION=v3.22.0
CLIENT_GO_MINOR=37 # helm v3.22.0 builds against k8s.io/client-go v0.37 -> Kubernetes 1.37
bin="$ROOT/bin/helm"
if [ -x "$bin" ] && "$bin" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION"; then
  exit 0
fi
echo "building helm $HELM_VERSION into bin/"
pkg=helm.sh/helm/v3
ldflags="-w -s -X $pkg/internal/version.version=$HELM_VERSION -X $pkg/internal/version.gitTreeState=clean"
ldflags+=" -X $pkg/pkg/lint/rules.k8sVersionMajor=1 -X $pkg/pkg/lint/rules.k8sVersionMinor=$CLIENT_GO_MINOR"
ldflags+=" -X $pkg/pkg/chartutil.k8sVersionMajor=1 -X $pkg/pkg/chartutil.k8sVersionMinor=$CLIENT_GO_MINOR"
GOBIN="$ROOT/bin" CGO_ENABLED=0 go install -trimpath -ldflags "$ldflags" "$pkg/cmd/helm@$HELM_VERSION"
"$bin" version --template '{{.Version}}' | grep -qx "$HELM_VERSION"
