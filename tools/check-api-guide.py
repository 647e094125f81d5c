#!/usr/bin/env python3
"""Keeps docs/api-guide.md true to the example programs in examples/.

The guide marks what it quotes:

    <!-- code: examples/ir_text.cpp -->     the next ```cpp block is an excerpt of that file:
                                            every run of lines between `// ...` lines must
                                            appear in the file verbatim, in that order
    <!-- output: example_ir_text -->        the next ``` block is that program's stdout

Run one example and check both (ctest example_<name>):
    check-api-guide.py --guide docs/api-guide.md --name example_ir_text \
                       --source examples/ir_text.cpp -- build/bin/example_ir_text ARGS...
  Exit code: the program's 77 (skipped) is passed on; 1 on any difference.

Check the markers themselves (ctest docs_api_guide_examples):
    check-api-guide.py --guide docs/api-guide.md --examples-dir examples
  Every code marker names an existing file, every example program is quoted
  (code and output), and no output is quoted twice.
"""
import argparse
import difflib
import os
import re
import subprocess
import sys

MARKER = re.compile(r"^<!-- (code|output): (\S+) -->\s*$")
ELISION = re.compile(r"^\s*// \.\.\.\s*$")


def blocks(guide_text):
    """(kind, name, block lines, marker line number) for every marker."""
    lines = guide_text.split("\n")
    found = []
    i = 0
    while i < len(lines):
        m = MARKER.match(lines[i])
        if not m:
            i += 1
            continue
        start = i
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            if lines[i].strip():
                raise SystemExit(f"guide line {start + 1}: marker not followed by a code block")
            i += 1
        if i == len(lines):
            raise SystemExit(f"guide line {start + 1}: marker not followed by a code block")
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise SystemExit(f"guide line {start + 1}: unterminated code block")
        found.append((m.group(1), m.group(2), body, start + 1))
        i += 1
    return found


def check_excerpt(body, source_lines, where):
    """Each chunk between `// ...` lines must occur in the source, in order."""
    chunks, current = [], []
    for line in body:
        if ELISION.match(line):
            if current:
                chunks.append(current)
            current = []
        else:
            current.append(line)
    if current:
        chunks.append(current)
    pos = 0
    problems = []
    for chunk in chunks:
        n = len(chunk)
        at = next((k for k in range(pos, len(source_lines) - n + 1) if source_lines[k:k + n] == chunk), None)
        if at is None:
            problems.append(f"{where}: excerpt not found in the source (in order):\n  " + "\n  ".join(chunk))
        else:
            pos = at + n
    return problems


def run_one(args, command):
    with open(args.guide, encoding="utf-8") as f:
        found = blocks(f.read())
    problems = []
    rel = os.path.join(os.path.basename(os.path.dirname(args.source)), os.path.basename(args.source))
    with open(args.source, encoding="utf-8") as f:
        source_lines = f.read().split("\n")
    excerpts = [b for b in found if b[0] == "code" and b[1] == rel]
    for _, _, body, line in excerpts:
        problems += check_excerpt(body, source_lines, f"{args.guide}:{line}")
    if not excerpts:
        problems.append(f"{args.guide}: no <!-- code: {rel} --> excerpt")

    proc = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    sys.stdout.write(proc.stdout)
    sys.stdout.flush()
    if proc.returncode == 77:
        print(f"{args.name}: skipped (exit 77)")
        return 77
    if proc.returncode != 0:
        problems.append(f"{args.name} exited with {proc.returncode}")
    outputs = [b for b in found if b[0] == "output" and b[1] == args.name]
    if not outputs:
        problems.append(f"{args.guide}: no <!-- output: {args.name} --> block")
    for _, _, body, line in outputs:
        want = [l.rstrip() for l in body]
        got = [l.rstrip() for l in proc.stdout.rstrip("\n").split("\n")]
        if want != got:
            diff = "\n".join(difflib.unified_diff(want, got, f"{args.guide}:{line} (quoted)", "actual output",
                                                  lineterm=""))
            problems.append(f"output of {args.name} differs from the guide:\n{diff}")
    for p in problems:
        print("error: " + p, file=sys.stderr)
    if not problems:
        print(f"{args.name}: output and {len(excerpts)} excerpt(s) match {args.guide}")
    return 1 if problems else 0


def check_markers(args):
    with open(args.guide, encoding="utf-8") as f:
        found = blocks(f.read())
    root = os.path.dirname(os.path.abspath(args.examples_dir))
    sources = sorted(f for f in os.listdir(args.examples_dir) if f.endswith(".cpp"))
    problems = []
    for kind, name, _, line in found:
        if kind == "code" and not os.path.isfile(os.path.join(root, name)):
            problems.append(f"{args.guide}:{line}: {name} does not exist")
    outputs = [name for kind, name, _, _ in found if kind == "output"]
    for name in set(outputs):
        if outputs.count(name) > 1:
            problems.append(f"{args.guide}: output of {name} quoted {outputs.count(name)} times")
    for src in sources:
        stem = src[:-4]
        if not any(k == "code" and n == f"examples/{src}" for k, n, _, _ in found):
            problems.append(f"{args.guide}: examples/{src} is never quoted")
        if f"example_{stem}" not in outputs:
            problems.append(f"{args.guide}: the output of example_{stem} is never quoted")
    for name in outputs:
        if not os.path.isfile(os.path.join(args.examples_dir, name[len("example_"):] + ".cpp")):
            problems.append(f"{args.guide}: output of {name}, which is not an example program")
    for p in problems:
        print("error: " + p, file=sys.stderr)
    if not problems:
        print(f"{args.guide}: {len(found)} quoted blocks, all {len(sources)} examples quoted")
    return 1 if problems else 0


def main():
    argv = sys.argv[1:]
    command = []
    if "--" in argv:
        at = argv.index("--")
        argv, command = argv[:at], argv[at + 1:]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--guide", required=True)
    ap.add_argument("--name", help="example program name, e.g. example_ir_text")
    ap.add_argument("--source", help="its source file")
    ap.add_argument("--examples-dir", help="check the markers against this directory")
    args = ap.parse_args(argv)
    if args.examples_dir:
        return check_markers(args)
    if not (args.name and args.source and command):
        ap.error("give --name, --source and -- COMMAND, or --examples-dir")
    return run_one(args, command)


if __name__ == "__main__":
    sys.exit(main())
