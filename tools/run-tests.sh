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
cmake --preset dev >/dev/null
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
