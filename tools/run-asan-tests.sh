#!/usr/bin/env bash
# The core tests (compiler, simulator, store) built with ASan + UBSan
# (asan preset: Debug, no GUI, no LibTorch). About 8 min of build on 2 cores;
# not part of CI's run-tests.sh, run it before landing changes to core/.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh

jobs=$(nproc)
start=$SECONDS
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
ctest --preset asan -j "$jobs" -L core --timeout 900 --no-tests=error
echo "== core tests passed under ASan + UBSan ($(( (SECONDS - start) / 60 )) min after dependencies) =="
