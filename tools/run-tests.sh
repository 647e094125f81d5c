#!/usr/bin/env bash
# README command 2: install dependencies, build, run every test (ctest).
# The core tests under ASan + UBSan are a separate script,
# tools/run-asan-tests.sh: together they take longer than CI's budget.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh

jobs=$(nproc)
start=$SECONDS
echo "== build (dev preset) =="
configure=(--preset dev)
# On CI: line tables only (-g1) instead of full debug info, to fit CI's time
# budget. Backtraces and perf keep file:line. CPU seconds for one TU, -g vs
# -g1: a LibTorch one 68 vs 37, core/passes/quantize 16.5 vs 10.6, the main
# window 20.5 vs 17.7. Locally the README command keeps full -g.
if [[ "${CI:-}" == "true" ]]; then
  configure+=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG")
fi
cmake "${configure[@]}" >/dev/null
cmake --build --preset dev -j "$jobs"

echo "== tests (dev preset) =="
ctest --preset dev -j "$jobs" --timeout 900 --no-tests=error
# The .deb install test changes the system (installs, uses, removes the
# package): on CI, or when asked.
if [[ "${CI:-}" == "true" || "${STC_TEST_DEB_INSTALL:-}" == "1" ]]; then
  echo "== install test (.deb) =="
  bash tools/test-deb-install.sh build/dev
fi
echo "== all tests passed ($(( (SECONDS - start) / 60 )) min after dependencies) =="
