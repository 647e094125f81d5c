#!/usr/bin/python3
"""Write tests/fixtures/nir/lava_dl_*.nir with Lava-DL's own NIR exporter, unmodified:
`convert_to_nir(net_config, output_path)` of `src/lava/lib/dl/netx/nir_lava.py`, run on
netx networks lava-dl's slayer exported (tests/fixtures/netx/README.md):

- lava_dl_trained_mnist.net -> lava_dl_trained_mnist.nir (784-128-64-10, iDecay = vDecay = 410)
- lava_dl_oxford.net -> lava_dl_oxford.nir (200-256-200, iDecay = 4096, vDecay = 415 and 409;
  one of the two networks the PR's own test_nir.py converts)

Sources (read from local bare git mirrors of the upstream repositories, pinned):

- Lava-DL's NIR exporter exists only in lava-dl's pull request #218 ("NIR <> lava-dl",
  Steven Abreu, 2023), never merged: lava-dl's main (d825ac5, 2026-05-13) has no
  nir_lava.py. We run the PR's last commit, 7fcf390b2cab55e33cc85d2613712ec6e1b8124e
  (refs/pull/218/head, 2023-08-25), file blob c183e9c43a8b9222d256e7aa6a824968b33be09a.
- NIR: the PR pins `nir = "^0.1.0"` (pyproject.toml). We use neuromorphs/NIR at
  84790cb6d4c6c86eb1a537908a201083c935a8d7 (2023-08-16, package version 0.1.1, the
  newest NIR before the PR's last commit; its nir/ equals e76fc00's). The exporter does
  not run with NIR 1.x: `nir.Input(shape=...)` is a TypeError since NIR 0.2 renamed the
  field to `input_type`.

Shims (the minimum to import nir_lava.py as it is; each is unused by convert_to_nir):

- `lava.lib.dl.slayer`: nir_lava.py does `from lava.lib.dl import slayer` for its NIR ->
  Lava direction (nir_to_lavadl_net builds slayer blocks). slayer's import needs
  matplotlib (slayer/utils/stats.py), which is not installed here. convert_to_nir and
  the functions it calls (read_node, read_neuron) never touch `slayer`; the shim is a
  module whose every attribute access raises, so any use would fail loudly.
- `lava`, `lava.lib`, `lava.lib.dl`: empty parent packages for that shim, so that the
  rest of lava-dl (netx/__init__.py imports netx.hdf5, which needs Lava core) is not
  imported at all. nir_lava.py is loaded from its file by importlib.

Not shimmed: torch (nir_lava.py imports it; /usr/bin/python3 has torch 1.13), h5py,
numpy, nir (the pinned source tree on sys.path).

Run: /usr/bin/python3 tools/nir/lava_dl_to_nir.py [--lava-dl GITDIR] [--nir GITDIR] [--net X.net -o X.nir]
(GITDIR: a clone's .git or a bare clone; lava-dl's must hold 7fcf390: `git fetch origin pull/218/head`).
The files come out byte-identical on every run.
"""
import argparse
import hashlib
import importlib.util
import pathlib
import subprocess
import sys
import tarfile
import tempfile
import types

ROOT = pathlib.Path(__file__).resolve().parents[2]
NETWORKS = ("lava_dl_trained_mnist", "lava_dl_oxford")
LAVA_DL_COMMIT = "7fcf390b2cab55e33cc85d2613712ec6e1b8124e"
NIR_LAVA_PATH = "src/lava/lib/dl/netx/nir_lava.py"
NIR_LAVA_BLOB = "c183e9c43a8b9222d256e7aa6a824968b33be09a"
NIR_COMMIT = "84790cb6d4c6c86eb1a537908a201083c935a8d7"


def git(gitdir, *args, binary=False):
    out = subprocess.run(["git", "--git-dir", str(gitdir), *args], check=True, capture_output=True).stdout
    return out if binary else out.decode().strip()


def extract(gitdir, commit, path, into):
    """`git archive` of one path at one commit, unpacked into `into`."""
    data = git(gitdir, "archive", "--format=tar", commit, path, binary=True)
    tar = into / "a.tar"
    tar.write_bytes(data)
    with tarfile.open(tar) as t:
        t.extractall(into)
    tar.unlink()


class Unused(types.ModuleType):
    def __getattr__(self, name):
        raise RuntimeError(f"shim {self.__name__}.{name}: convert_to_nir was not expected to use it")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lava-dl", default="/work/.mirror/lava-nc+lava-dl/repo", help="bare git dir of lava-nc/lava-dl")
    ap.add_argument("--nir", default="/work/.mirror/neuromorphs+NIR/repo", help="bare git dir of neuromorphs/NIR")
    ap.add_argument("--net", help="one netx HDF5 file to convert (default: the fixtures above)")
    ap.add_argument("-o", "--out", help="the NIR file to write for --net")
    a = ap.parse_args()
    jobs = [(a.net, a.out)] if a.net else \
        [(ROOT / "tests" / "fixtures" / "netx" / f"{n}.net", ROOT / "tests" / "fixtures" / "nir" / f"{n}.nir")
         for n in NETWORKS]

    blob = git(a.lava_dl, "rev-parse", f"{LAVA_DL_COMMIT}:{NIR_LAVA_PATH}")
    if blob != NIR_LAVA_BLOB:
        sys.exit(f"{NIR_LAVA_PATH} at {LAVA_DL_COMMIT} is blob {blob}, expected {NIR_LAVA_BLOB}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        extract(a.lava_dl, LAVA_DL_COMMIT, NIR_LAVA_PATH, tmp)
        extract(a.nir, NIR_COMMIT, "nir", tmp)
        sys.path.insert(0, str(tmp))  # the pinned NIR package
        import nir  # noqa: E402

        for name in ("lava", "lava.lib", "lava.lib.dl"):
            sys.modules[name] = types.ModuleType(name)
        sys.modules["lava.lib.dl.slayer"] = sys.modules["lava.lib.dl"].slayer = Unused("lava.lib.dl.slayer")
        source = tmp / NIR_LAVA_PATH
        spec = importlib.util.spec_from_file_location("nir_lava", source)
        nir_lava = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(nir_lava)

        sha = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
        for net, out in jobs:
            nir_lava.convert_to_nir(str(net), str(out))  # Lava-DL's code writes the file
            print(f"wrote {out} with lava-dl {LAVA_DL_COMMIT[:7]} {NIR_LAVA_PATH} (sha256 {sha}...), "
                  f"nir {nir.__version__} ({NIR_COMMIT[:7]}) from {net}")


if __name__ == "__main__":
    main()
