#!/usr/bin/env bash
# README command 2: install dependencies, build, run every test.
#   STC_SKIP_ASAN=1   skip the ASan+UBSan build of the core tests
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

if [[ "${STC_SKIP_ASAN:-0}" != 1 ]]; then
  echo "== core tests under ASan + UBSan (asan preset) =="
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$jobs"
  ctest --preset asan -j "$jobs" -L core --timeout 900 --no-tests=error
fi
echo "== all tests passed ($(( (SECONDS - start) / 60 )) min after dependencies) =="
