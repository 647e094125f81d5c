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
echo "== all tests passed ($(( (SECONDS - start) / 60 )) min after dependencies) =="
