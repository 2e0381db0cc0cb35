#!/usr/bin/env bash
# Installs one stage binary for this runner and prints its path.
#
# A released binary is used only when actions/checksums.txt (in the same tree
# as this script, so the same source) pins it for the version in
# actions/VERSION and this OS/arch; its sha256 must match or the install
# fails. Otherwise (no release for this tree, an unknown platform, a download
# that fails) the binary is built from this tree with `go build`, which needs
# Go on the runner.
#
# usage: install.sh STAGE   (plan | build-image | run-bench | publish)
# env:   COMMITBENCH_RELEASE_URL  base URL of release assets
#        COMMITBENCH_CHECKSUMS    checksums file (default actions/checksums.txt)
#        COMMITBENCH_BIN_DIR      where to install (default $RUNNER_TEMP/commitbench-bin)
set -euo pipefail

stage="${1:?usage: install.sh STAGE}"
case "$stage" in plan|build-image|run-bench|publish) ;; *) echo "install.sh: unknown stage $stage" >&2; exit 2;; esac
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
version="$(tr -d '[:space:]' < "$here/VERSION" 2>/dev/null || true)"
version="${version:-dev}"
checksums="${COMMITBENCH_CHECKSUMS:-$here/checksums.txt}"
release_url="${COMMITBENCH_RELEASE_URL:-https://github.com/commitbench/commitbench/releases/download}"

os="$(uname -s | tr '[:upper:]' '[:lower:]')"
case "$(uname -m)" in
  x86_64|amd64) arch=amd64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) arch="$(uname -m)" ;;
esac
asset="commitbench-${stage}-${os}-${arch}"
dir="${COMMITBENCH_BIN_DIR:-${RUNNER_TEMP:-/tmp}/commitbench-bin}/${version}"
mkdir -p "$dir"
bin="$dir/$asset"

want=""
if [ -f "$checksums" ]; then
  # Lines: "<sha256>  <asset>  <version>"
  want="$(awk -v a="$asset" -v v="$version" '$2 == a && $3 == v { print $1 }' "$checksums")"
fi

if [ -n "$want" ]; then
  if [ -x "$bin" ] && echo "$want  $bin" | sha256sum -c --quiet - 2>/dev/null; then
    echo "$bin"; exit 0
  fi
  if curl -fsSL --retry 3 --retry-delay 2 -o "$bin.download" "$release_url/$version/$asset"; then
    if ! echo "$want  $bin.download" | sha256sum -c --quiet - >/dev/null 2>&1; then
      rm -f "$bin.download"
      echo "install.sh: $asset from $release_url/$version does not match its pinned sha256; refusing it" >&2
      exit 1
    fi
    chmod +x "$bin.download" && mv "$bin.download" "$bin"
    echo "install.sh: using released $asset $version (sha256 verified)" >&2
    echo "$bin"; exit 0
  fi
  echo "install.sh: could not download $asset $version; building from source" >&2
else
  echo "install.sh: no pinned release of $asset for version $version; building from source" >&2
fi

if ! command -v go >/dev/null; then
  echo "install.sh: Go is needed to build $stage from source (install it with actions/setup-go)" >&2
  exit 1
fi
(cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags "-X github.com/commitbench/commitbench/internal/version.Version=$version" -o "$bin" "./actions/$stage")
echo "$bin"
