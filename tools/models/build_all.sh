#!/bin/sh
# Regenerates every Python-side artefact of STC Studio:
#   resources/models/{spikformer_fmnist,convsnn_fmnist,leaky_mlp_fmnist}.*  (train + export)
#   resources/models/MANIFEST.md
#   tests/fixtures/torchscript/*                                            (importer fixtures)
# Usage: tools/models/build_all.sh [--fixtures-only]
# Needs /usr/bin/python3 with torch (CPU) and the Fashion-MNIST IDX files in
# /usr/share/datasets/fashion-mnist (override with FMNIST_DIR).
set -eu
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
# libgomp: don't busy-wait (2-thread training is ~5x slower on a loaded machine otherwise)
export GOMP_SPINCOUNT="${GOMP_SPINCOUNT:-10000}"

"$PY" tools/models/selftest.py
if [ "${1:-}" != "--fixtures-only" ]; then
    "$PY" tools/models/train_spikformer_fmnist.py
    "$PY" tools/models/train_convsnn_fmnist.py
    "$PY" tools/models/train_leaky_mlp_fmnist.py
    "$PY" tools/models/write_manifest.py
fi
"$PY" tools/models/make_fixtures.py
echo "build_all: done"
