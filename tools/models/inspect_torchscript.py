#!/usr/bin/python3
"""Inspect a TorchScript file the way the STC Studio importer sees it.

  inspect_torchscript.py FILE.pt                 # module tree + aten op histogram
  inspect_torchscript.py FILE.pt --graph         # forward graph of the top module
  inspect_torchscript.py FILE.pt --graph --inlined [--frozen]
  inspect_torchscript.py FILE.pt --module blocks.0.attn.q_lif --graph --code
"""
import argparse
import collections
import os

os.environ.setdefault("GOMP_SPINCOUNT", "10000")
import torch  # noqa: E402


def walk(mod, prefix=""):
    yield prefix, mod
    for name, child in mod.named_children():
        yield from walk(child, f"{prefix}.{name}" if prefix else name)


def op_histogram(graph) -> collections.Counter:
    hist = collections.Counter()

    def visit(block):
        for node in block.nodes():
            hist[node.kind()] += 1
            for b in node.blocks():
                visit(b)
    visit(graph)
    return hist


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--module", default="", help="dotted path of a submodule")
    ap.add_argument("--graph", action="store_true")
    ap.add_argument("--inlined", action="store_true", help="use inlined_graph (no CallMethod)")
    ap.add_argument("--frozen", action="store_true", help="torch.jit.freeze first (top module only)")
    ap.add_argument("--code", action="store_true", help="print the module's TorchScript code")
    args = ap.parse_args()

    m = torch.jit.load(args.file).eval()
    if args.frozen:
        m = torch.jit.freeze(m)
    for part in filter(None, args.module.split(".")):
        m = getattr(m, part)
    print(f"# {args.file} :: {args.module or '<top>'}  ({m.original_name})")
    if not args.graph and not args.code:
        for path, sub in walk(m):
            methods = [n for n in sub._c._method_names()]
            print(f"  {path or '<top>':45s} {sub.original_name:24s} methods={methods}")
    g = m.inlined_graph if args.inlined else m.graph
    if args.graph:
        print(g)
    if args.code:
        print(m.code)
    print("# op histogram (" + ("inlined" if args.inlined else "not inlined") + ")")
    for kind, n in sorted(op_histogram(g).items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {n:6d}  {kind}")


if __name__ == "__main__":
    main()
