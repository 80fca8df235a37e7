#!/usr/bin/env bash
# Packages chart/ for a release: chart version and appVersion set to the release version, and the image pinned by
# digest in the packaged values.yaml, so `helm install oci://…/zephyr --version X` runs exactly the pushed (and signed)
# image with no --set. .github/workflows/release.yml runs it; chart/test/controlplane runs it against a loopback
# registry, so the release's packaging step is the one the tests install from.
#
#   .ci/package-chart.sh --version 1.2.3 --repository ghcr.io/acme/zephyr --digest sha256:… [--destination DIR]
#                        [--chart DIR]   (default: chart/; the tests pass another copy to show a defect is caught)
#
# Prints the path of the packaged .tgz. HELM overrides the helm binary (default: bin/helm from .ci/setup).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
helm="${HELM:-$root/bin/helm}"
version=""
repository=""
digest=""
destination="$PWD"
chart="$root/chart"
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version="$2"; shift 2 ;;
    --repository) repository="$2"; shift 2 ;;
    --digest) digest="$2"; shift 2 ;;
    --destination) destination="$2"; shift 2 ;;
    --chart) chart="$2"; shift 2 ;;
    *) echo "package-chart.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "$version" ] || [ -z "$repository" ] || [ -z "$digest" ]; then
  echo "package-chart.sh: --version, --repository and --digest are required" >&2
  exit 2
fi
if ! [[ "$digest" =~ ^sha256:[a-f0-9]{64}$ ]]; then
  echo "package-chart.sh: --digest must be sha256:<64 hex>, not $digest" >&2
  exit 2
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -R "$chart" "$work/zephyr"
values="$work/zephyr/values.yaml"
# Only the two keys of the top-level image: block change, so values.yaml keeps its @param comments (the packaged
# README of values is what `helm show values` prints).
awk -v repo="$repository" -v digest="$digest" '
  /^[^ #]/ { in_image = ($0 ~ /^image:/) }
  in_image && /^  repository:/ { print "  repository: " repo; r++; next }
  in_image && /^  digest:/ { print "  digest: \"" digest "\""; d++; next }
  { print }
  END { if (r != 1 || d != 1) exit 3 }
' "$values" >"$values.new" || { echo "package-chart.sh: image.repository/image.digest not found in values.yaml" >&2; exit 1; }
mv "$values.new" "$values"
# What the rewrite must achieve, checked on the rendered chart rather than on the YAML text.
ref="$repository@$digest"
if ! "$helm" template zephyr "$work/zephyr" -f "$work/zephyr/ci/minimal-values.yaml" | grep -qF "image: $ref"; then
  echo "package-chart.sh: the packaged chart does not render image $ref" >&2
  exit 1
fi
mkdir -p "$destination"
"$helm" package "$work/zephyr" --version "$version" --app-version "$version" --destination "$destination" >/dev/null
echo "$(cd "$destination" && pwd)/zephyr-$version.tgz"
