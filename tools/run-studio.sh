#!/usr/bin/env bash
# README command 1: install dependencies, build, and open STC Studio on the
# bundled trained Spikformer. Without a display it runs offscreen and writes
# a screenshot plus a text report of what it loaded, and prints where.
#   STC_REPORT_DIR   where the headless report goes (default: build/studio-report)
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh

cmake --preset dev >/dev/null
cmake --build --preset dev -j "$(nproc)" --target stc-studio stc stc_torchscript stc_backend_loihi

model="${1:-resources/models/spikformer_fmnist.traced.pt}"
studio=build/dev/bin/stc-studio

if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" && "${STC_HEADLESS:-0}" != 1 ]]; then
  exec "$studio" "$model"
fi

out="${STC_REPORT_DIR:-build/studio-report}"
echo "No display: running STC Studio offscreen; report goes to $out/"
QT_QPA_PLATFORM=offscreen "$studio" --headless-report "$out" "$model"
