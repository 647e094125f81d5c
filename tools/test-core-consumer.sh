#!/usr/bin/env bash
# Uses stc_core from outside the tree: installs a configured build's dev and
# runtime components into a temporary prefix (or takes an existing prefix),
# configures tests/install/consumer against it with find_package(STCCore),
# builds two of examples/ there and runs them on the bundled conv SNN.
#   tools/test-core-consumer.sh --build BUILD_DIR     (cmake --install into a temp prefix)
#   tools/test-core-consumer.sh --prefix PREFIX       (already installed, e.g. /usr from the .deb)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case ${1:-} in
  --build)
    prefix=$tmp/prefix
    for component in dev runtime; do
      cmake --install "$2" --prefix "$prefix" --component "$component" >/dev/null
    done
    echo "== installed into $prefix: $(find "$prefix/include/stc" -name '*.h' | wc -l) headers, $(du -h "$prefix"/lib*/libstc_core.a | cut -f1) libstc_core.a";;
  --prefix) prefix=$2;;
  *) echo "usage: $0 --build BUILD_DIR | --prefix PREFIX" >&2; exit 2;;
esac
# No path into the source tree may leak into the consumer's build: only the prefix is given.
cmake -S "$src/tests/install/consumer" -B "$tmp/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$prefix" -DSTC_EXAMPLES_DIR="$src/examples" | grep -E "STCCore|Error" || true
cmake --build "$tmp/consumer" -j "$(nproc)" >/dev/null
if grep -rq -- "-I$src/core" "$tmp/consumer/build.ninja"; then
  echo "test-core-consumer: the consumer was given the source tree's core/ as include directory" >&2; exit 1
fi
# The programs run from a directory with no share/stc next to them. A temporary
# prefix is not one the library was configured with, so it is named through
# $STC_RESOURCE_DIR; an installed package's /usr/share/stc is found without it.
model=$prefix/share/stc/models/convsnn_fmnist.sir
[[ -f $model ]] || { echo "test-core-consumer: $model missing" >&2; exit 1; }
[[ ${1} == --build ]] && export STC_RESOURCE_DIR=$prefix/share/stc
"$tmp/consumer/ir_text" "$model" | tail -3
"$tmp/consumer/compile_package" "$model" "$tmp/conv.stcpkg" | tail -3
test -f "$tmp/conv.stcpkg/manifest.json"
echo "== stc_core used from outside the tree: built and ran ir_text and compile_package against $prefix"
