#!/usr/bin/env bash
# Installs every build, test and run dependency of STC Studio from Debian 12's
# apt repositories. Idempotent: a fast no-op when everything is present.
# Run as root (or with sudo available).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build lld pkg-config git
  qt6-base-dev qt6-base-dev-tools qt6-charts-dev qt6-svg-dev qt6-qpa-plugins libqscintilla2-qt6-dev
  # Qt6Charts's CMake package needs Qt6OpenGL's, which only libqt6opengl6-dev ships
  # (qt6-charts-dev does not depend on it; a fresh machine failed to configure).
  libqt6opengl6-dev
  libtorch-dev python3-torch
  # LibTorch's linear/matmul call libblas.so.3; without this Debian picks the
  # reference BLAS, ~3x slower for the frontend's recording run. The OpenMP
  # build shares LibTorch's libgomp threads (docs/frontend-torchscript.md).
  libopenblas0-openmp
  libgraphviz-dev libsqlite3-dev nlohmann-json3-dev zlib1g-dev libgl-dev libhdf5-dev
  libopenmpi-dev openmpi-bin
  xvfb xauth
  dataset-fashion-mnist
)

missing=()
for p in "${PACKAGES[@]}"; do
  # dpkg-query is fast; only packages not fully installed are considered missing.
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root (missing: ${missing[*]})" >&2; exit 1; }
  SUDO="sudo"
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
