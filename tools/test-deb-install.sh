#!/usr/bin/env bash
# Install test of the Debian package: builds it (cpack) from a configured
# build tree, installs it with apt (dependencies resolved from the declared
# ones), uses the installed binaries -- stc --version, a compile of the
# bundled model from /usr/share/stc, a .pt import through the installed
# plugin, stc-run on the package, stc-studio headless, and the -dev package
# (a program outside the tree built against /usr with find_package(STCCore))
# -- then removes both.
# Changes the system: run as root on a machine (or CI) where that is fine.
#   tools/test-deb-install.sh [BUILD_DIR]     (default build/dev)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/dev}
[[ $(id -u) -eq 0 ]] || { echo "test-deb-install: run as root (it installs and removes a package)" >&2; exit 1; }
if dpkg-query -W -f='${Status}' stc-studio 2>/dev/null | grep -q "install ok installed"; then
  echo "test-deb-install: stc-studio is installed already; not touching it" >&2
  exit 1
fi
start=$SECONDS
rm -f "$build"/stc-studio_*.deb "$build"/stc-studio-dev_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/stc-studio_*.deb)
devdeb=$(ls "$build"/stc-studio-dev_*.deb)
echo "== $deb ($(du -h "$deb" | cut -f1)), $devdeb ($(du -h "$devdeb" | cut -f1))"
dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/^ */   depends: /' | head -40
dpkg-deb -f "$devdeb" Depends | tr ',' '\n' | sed 's/^ */   dev depends: /'
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends "$(realpath "$deb")" "$(realpath "$devdeb")" >/dev/null
trap 'apt-get remove -y -q stc-studio-dev stc-studio >/dev/null 2>&1 || true' EXIT
tmp=$(mktemp -d)
set -x
/usr/bin/stc --version
/usr/bin/stc compile /usr/share/stc/models/convsnn_fmnist.sir --chip loihi3 -o "$tmp/conv.stcpkg" | tail -2
/usr/bin/stc import /usr/share/stc/models/convsnn_fmnist.traced.pt -o "$tmp/conv.sir" | tail -1
python3 -c "import json; print(json.dumps([0.5] * 784))" > "$tmp/in.json"
/usr/bin/stc-run "$tmp/conv.stcpkg" --input "$tmp/in.json"
QT_QPA_PLATFORM=offscreen /usr/bin/stc-studio --version
test -f /usr/share/applications/stc-studio.desktop
test -f /usr/share/mime/packages/stc-studio.xml
test -f /usr/share/icons/hicolor/scalable/apps/stc-studio.svg
set +x
bash tools/test-core-consumer.sh --prefix /usr  # the -dev package: find_package(STCCore), link, run
apt-get remove -y -q stc-studio-dev stc-studio >/dev/null
trap - EXIT
[[ ! -e /usr/bin/stc && ! -e /usr/bin/stc-run && ! -e /usr/share/stc && ! -e /usr/include/stc ]] || { echo "test-deb-install: files left after removal" >&2; exit 1; }
rm -rf "$tmp"
echo "== deb install test passed ($(( SECONDS - start )) s): installed, used, removed"
