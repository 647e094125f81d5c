#!/usr/bin/python3
"""Manual generality check of the TorchScript importer on models nobody here wrote.

Builds the official upstream models (random weights, BN running statistics
recalibrated so that firing rates are plausible), exports them with
torch.jit.trace (and torch.jit.script where upstream supports it), imports
each with ``stc import`` and prints a table: result, max |logits diff|
reported by the importer's self-validation against LibTorch, whether every
neuron's spike count is identical, the import time, and whether the imported
model compiles for loihi3 (default pipeline, up to 16 chips).

Nothing from upstream is committed: the checkouts are given on the command
line and the exported archives (which embed upstream code) go to --out.

    /usr/bin/python3 tools/models/check_upstream.py \\
        --spikformer /tmp/upstream/spikformer \\
        --sj-legacy /tmp/upstream/sj_0.0.0.0.12   (has spikingjelly/clock_driven) \\
        --sj /tmp/upstream/sj_0.0.0.0.14          (has spikingjelly/activation_based) \\
        [--sdt /tmp/upstream/Spike-Driven-Transformer] [--out /tmp/upstream_models] \\
        [--only NAME[,NAME]] [--stc build/dev/bin/stc]

The upstream code imports timm (and spikingjelly's model zoo torchvision);
without PyPI the script writes a throwaway shim of the few names used into a
temporary directory. SpikingJelly's cupy backend is replaced by its torch
backend. Each model is built in its own Python process (the two SpikingJelly
versions both are the package ``spikingjelly``).
"""
import argparse
import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SHIMS = {
    "timm/__init__.py": "",
    "timm/models/__init__.py": "",
    "timm/models/layers.py": '''
import collections.abc
import torch.nn as nn
def to_2tuple(x):
    if isinstance(x, collections.abc.Iterable) and not isinstance(x, str):
        return tuple(x)
    return (x, x)
def trunc_normal_(tensor, mean=0., std=1., a=-2., b=2.):
    return nn.init.trunc_normal_(tensor, mean, std, a, b)
class DropPath(nn.Module):  # identity in eval
    def __init__(self, drop_prob=0., scale_by_keep=True):
        super().__init__()
        self.drop_prob = drop_prob
    def forward(self, x):
        return x
''',
    "timm/models/registry.py": "def register_model(fn):\n    return fn\n",
    "timm/models/vision_transformer.py": "def _cfg(url='', **kw):\n    return dict(url=url, **kw)\n",
    "einops/__init__.py": "",
    "einops/layers/__init__.py": "",
    "einops/layers/torch.py": "class Rearrange:  # imported, unused by spikformer/cifar10dvs\n    pass\n",
    "torchvision/__init__.py": "",
    "torchvision/_internally_replaced_utils.py":
        "def load_state_dict_from_url(*a, **k):\n    raise RuntimeError('no downloads in this check')\n",
}


# --------------------------------------------------------------------------
# model builders (run in the child process)
# --------------------------------------------------------------------------
def load_file(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def load_class(path, cls, namespace):
    """Executes only class `cls` of an upstream script whose top level imports
    things we do not have (matplotlib, tensorboard, torchvision datasets)."""
    tree = ast.parse(open(path).read())
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
    code = compile(ast.Module(body=[node], type_ignores=[]), path, "exec")
    exec(code, namespace)
    return namespace[cls]


def force_torch_backend():
    """SpikingJelly 0.0.0.0.12 asserts cupy for backend='cupy': build with torch."""
    from spikingjelly.clock_driven import neuron
    for cls in vars(neuron).values():
        code = getattr(getattr(cls, "__init__", None), "__code__", None)
        if isinstance(cls, type) and code is not None and "backend" in code.co_varnames:
            orig = cls.__init__

            def init(self, *a, __orig=orig, **k):
                if k.get("backend") == "cupy":
                    k["backend"] = "torch"
                __orig(self, *a, **k)
            cls.__init__ = init


def exportable_surrogates(model):
    """SpikingJelly's surrogate spike functions are torch.autograd.Functions:
    torch.jit.trace records them as PythonOp, which torch.jit.save refuses
    ("Could not export Python function call 'sigmoid'"). Their forward is
    heaviside(x) = (x >= 0).to(x) (surrogate.heaviside); swap that in for the
    export, as anyone exporting these models has to. Returns how many."""
    import types
    n = 0
    for m in model.modules():
        if hasattr(m, "spiking_function") and hasattr(m, "primitive_function"):
            m.forward = types.MethodType(lambda self, x: (x >= 0).to(x), m)
            n += 1
    return n


class FirstOutput:
    """Spike-Driven Transformer's forward returns (logits, hook)."""
    @staticmethod
    def wrap(model):
        import torch.nn as nn

        class First(nn.Module):
            def __init__(self, m):
                super().__init__()
                self.model = m

            def forward(self, x):
                return self.model(x)[0]
        return First(model)


def encode_mean(net, T):
    """Direct encoding + rate readout around a multi-step SpikingJelly net."""
    import torch.nn as nn

    class Rate(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.net = m
            self.T = T

        def forward(self, x):
            return self.net(x.unsqueeze(0).repeat(self.T, 1, 1, 1, 1)).mean(0)
    return Rate(net)


def b_spikformer_cifar10(p):
    force_torch_backend()
    m = load_file(os.path.join(p["spikformer"], "cifar10", "model.py"), "spikformer_cifar10_model")
    return m.spikformer(img_size_h=32, img_size_w=32, patch_size=4, embed_dims=384, num_heads=12,
                        mlp_ratios=4, in_channels=3, num_classes=10, qkv_bias=False, depths=4, sr_ratios=1, T=4)


def b_spikformer_imagenet(p, depths=2):
    force_torch_backend()
    m = load_file(os.path.join(p["spikformer"], "imagenet", "model.py"), "spikformer_imagenet_model")
    from functools import partial
    import torch.nn as nn
    # The official 8-512 at 224x224 reduced to width 128 at 64x64 (T = 4 is fixed in forward).
    return m.Spikformer(img_size_h=64, img_size_w=64, patch_size=16, embed_dims=128, num_heads=8, mlp_ratios=4,
                        in_channels=3, num_classes=100, qkv_bias=False,
                        norm_layer=partial(nn.LayerNorm, eps=1e-6), depths=depths, sr_ratios=1)


def b_spikformer_imagenet_depth8(p):
    # The official depth: its residual stream needs alignment delays beyond a
    # chip's synaptic delays, so compiling it needs delay relays.
    return b_spikformer_imagenet(p, depths=8)


def b_spikformer_cifar10dvs(p):
    force_torch_backend()
    m = load_file(os.path.join(p["spikformer"], "cifar10dvs", "model.py"), "spikformer_dvs_model")
    # SPS hard-codes 128x128 event frames; input [B, T, 2, 128, 128] (T = 4 here, 16 upstream).
    return m.Spikformer(img_size_h=128, img_size_w=128, patch_size=16, embed_dims=64, num_heads=4, mlp_ratios=4,
                        in_channels=2, num_classes=10, qkv_bias=False, depths=1, sr_ratios=1)


def b_sdt_cifar10(p):
    force_torch_backend()
    sys.path.insert(0, p["sdt"])
    m = load_file(os.path.join(p["sdt"], "model", "spikeformer.py"), "sdt_model")
    # conf/cifar10/2_256_300E_t4.yml
    net = m.sdt(T=4, num_heads=8, num_classes=10, pooling_stat="0011", img_size_h=32, img_size_w=32, patch_size=4,
                embed_dims=256, mlp_ratios=4, in_channels=3, qkv_bias=False, depths=2, sr_ratios=1,
                spike_mode="lif", dvs_mode=False, TET=False)
    return FirstOutput.wrap(net)


def b_sj_csnn_if(p):
    from spikingjelly.activation_based import neuron, functional, surrogate, layer
    import torch
    import torch.nn as nn
    ns = dict(torch=torch, nn=nn, neuron=neuron, functional=functional, surrogate=surrogate, layer=layer)
    CSNN = load_class(os.path.join(p["sj"], "spikingjelly", "activation_based", "examples", "conv_fashion_mnist.py"),
                      "CSNN", ns)
    return CSNN(T=4, channels=32)


def _lif_convnet(step_mode, **lif):
    from spikingjelly.activation_based import neuron, functional, layer
    import torch.nn as nn
    net = nn.Sequential(
        layer.Conv2d(1, 16, 3, padding=1, bias=False), layer.BatchNorm2d(16), neuron.LIFNode(**lif),
        layer.MaxPool2d(2, 2),
        layer.Conv2d(16, 32, 3, padding=1, bias=False), layer.BatchNorm2d(32), neuron.LIFNode(**lif),
        layer.AvgPool2d(2, 2),
        layer.Flatten(), layer.Linear(32 * 7 * 7, 64), neuron.LIFNode(**lif), layer.Linear(64, 10))
    functional.set_step_mode(net, step_mode)
    return net


def b_sj_lif_m(p):
    return encode_mean(_lif_convnet("m", tau=2.0), 4)


def b_sj_lif_m_soft_nodecay(p):
    return encode_mean(_lif_convnet("m", tau=3.0, v_reset=None, decay_input=False, v_threshold=1.0), 4)


def b_sj_lif_s_loop(p):
    import torch.nn as nn
    net = _lif_convnet("s", tau=2.0)

    class Loop(nn.Module):  # the single-step idiom: a Python loop over T
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, x):
            out = 0.
            for t in range(4):
                out = out + self.net(x)
            return out / 4
    return Loop()


def b_sj_plif_fmnist(p):
    from spikingjelly.activation_based import neuron, functional
    from spikingjelly.activation_based.model import parametric_lif_net
    net = parametric_lif_net.FashionMNISTNet(channels=16, spiking_neuron=neuron.ParametricLIFNode,
                                             detach_reset=True)
    functional.set_step_mode(net, "m")
    return encode_mean(net, 4)


def b_sj_sew_resnet18(p):
    from spikingjelly.activation_based import neuron, functional
    from spikingjelly.activation_based.model import sew_resnet
    net = sew_resnet.sew_resnet18(spiking_neuron=neuron.IFNode, cnf="ADD", detach_reset=True, num_classes=10)
    functional.set_step_mode(net, "m")
    return encode_mean(net, 4)


def b_sj_spiking_resnet18(p):
    from spikingjelly.activation_based import neuron, functional
    from spikingjelly.activation_based.model import spiking_resnet
    net = spiking_resnet.spiking_resnet18(spiking_neuron=neuron.LIFNode, detach_reset=True, num_classes=10)
    functional.set_step_mode(net, "m")
    return encode_mean(net, 4)


# name: (builder, checkouts needed, input shape, T, export modes)
BOTH = ("trace", "script")
MODELS = {
    "spikformer_cifar10": (b_spikformer_cifar10, ("spikformer", "sj_legacy"), (1, 3, 32, 32), 4, BOTH),
    "spikformer_imagenet": (b_spikformer_imagenet, ("spikformer", "sj_legacy"), (1, 3, 64, 64), 4, BOTH),
    "spikformer_imagenet_depth8": (b_spikformer_imagenet_depth8, ("spikformer", "sj_legacy"), (1, 3, 64, 64), 4,
                                   ("trace",)),
    "spikformer_cifar10dvs": (b_spikformer_cifar10dvs, ("spikformer", "sj_legacy"), (1, 4, 2, 128, 128), 4,
                              ("trace",)),
    "sdt_cifar10": (b_sdt_cifar10, ("sdt", "sj_legacy"), (1, 3, 32, 32), 4, BOTH),
    "sj_csnn_if": (b_sj_csnn_if, ("sj",), (1, 1, 28, 28), 4, BOTH),
    "sj_lif_m": (b_sj_lif_m, ("sj",), (2, 1, 28, 28), 4, BOTH),
    "sj_lif_m_soft_nodecay": (b_sj_lif_m_soft_nodecay, ("sj",), (1, 1, 28, 28), 4, BOTH),
    "sj_lif_s_loop": (b_sj_lif_s_loop, ("sj",), (1, 1, 28, 28), 4, BOTH),
    "sj_plif_fmnist": (b_sj_plif_fmnist, ("sj",), (1, 1, 28, 28), 4, BOTH),
    "sj_sew_resnet18": (b_sj_sew_resnet18, ("sj",), (1, 3, 32, 32), 4, BOTH),
    "sj_spiking_resnet18": (b_sj_spiking_resnet18, ("sj",), (1, 3, 32, 32), 4, BOTH),
}


def neuron_modules(model):
    # Measurement only (firing rates for the table): SpikingJelly neurons.
    return [(n, m) for n, m in model.named_modules() if type(m).__name__.endswith("Node")]


def reset_state(model):
    for m in model.modules():
        if hasattr(m, "reset") and hasattr(m, "v") and callable(m.reset):
            m.reset()


def calibrate(model, shape, seed):
    """Random BN affine parameters, running stats from train-mode passes on
    U[0,1) inputs, then eval; returns the mean firing rate per neuron module."""
    import torch
    import torch.nn as nn
    g = torch.Generator().manual_seed(seed)
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for bn in bns:
            bn.weight.copy_(torch.rand(bn.weight.shape, generator=g) * 0.8 + 0.8)
            bn.bias.copy_(torch.rand(bn.bias.shape, generator=g) * 0.6 - 0.1)
            bn.reset_running_stats()
            bn.momentum = None
        model.train()
        model(torch.rand((8,) + tuple(shape[1:]), generator=g))
        reset_state(model)
        model.eval()
        for bn in bns:
            bn.momentum = 0.1
    rates = {}
    hooks = [m.register_forward_hook(lambda mod, i, o, n=n: rates.setdefault(n, []).append(float(o.mean())))
             for n, m in neuron_modules(model)]
    with torch.no_grad():
        model(torch.rand(tuple(shape), generator=g))
    for h in hooks:
        h.remove()
    reset_state(model)
    return {n: sum(v) / len(v) for n, v in rates.items()}


def child(name, paths, out):
    import torch
    builder, needs, shape, T, modes = MODELS[name]
    for k in needs:
        sys.path.insert(0, paths[k])
    torch.manual_seed(0)
    model = builder(paths)
    rates = calibrate(model, shape, 1234)
    info = {"name": name, "params": sum(p.numel() for p in model.parameters()),
            "neurons": len(rates), "rate_mean": sum(rates.values()) / max(1, len(rates)),
            "rate_min": min(rates.values(), default=0), "rate_max": max(rates.values(), default=0), "exports": {}}
    x = torch.rand(tuple(shape), generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        y = model(x)
    reset_state(model)
    torch.save({"input": x, "output": y}, os.path.join(out, name + ".ref.pt"))

    def export(mode):
        path = os.path.join(out, "%s.%s.pt" % (name, "traced" if mode == "trace" else "scripted"))
        try:
            with torch.no_grad():
                ts = torch.jit.trace(model, x, check_trace=False) if mode == "trace" else torch.jit.script(model)
            reset_state(model)
            ts.save(path)
            loaded = torch.jit.load(path)
            with torch.no_grad():
                y2 = loaded(x)
            info["exports"][mode] = {"path": path, "diff_vs_eager": float((y2 - y).abs().max())}
        except Exception as e:  # noqa: BLE001 - reported in the table
            msg = re.sub(r" at 0x[0-9a-f]+", "", str(e)).strip().splitlines()
            info["exports"][mode] = {"error": "%s: %s" % (type(e).__name__, msg[0] if msg else "")}
        reset_state(model)

    if "script" in modes:  # the unmodified upstream model
        export("script")
    info["surrogates_swapped"] = exportable_surrogates(model)
    if "trace" in modes:
        export("trace")
    print("INFO " + json.dumps(info))


# --------------------------------------------------------------------------
# parent: build, import, table
# --------------------------------------------------------------------------
def import_one(stc, path, shape, T):
    sir = path[:-3] + ".sir"
    cmd = [stc, "import", path, "-o", sir, "--input-shape", ",".join(map(str, shape)), "--timesteps", str(T),
           "--verbose"]
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t0
    text = p.stdout + p.stderr
    r = {"ok": p.returncode == 0, "wall": wall, "log": text}
    m = re.search(r"max abs error ([0-9.eE+-]+)", text)
    r["max_diff"] = float(m.group(1)) if m else None
    m = re.search(r"\(([0-9.]+) s, validated", text)
    r["seconds"] = float(m.group(1)) if m else None
    r["recognized"] = len(re.findall(r"recognized .* over \d+ steps", text))
    r["spikes_equal"] = r["ok"] and "spikes in the imported model" not in text
    errs = [l for l in text.splitlines() if "error:" in l]
    r["errors"] = errs
    return r


def compile_one(stc, sir, chips=16):
    """`stc compile` for loihi3 (the default pipeline): "ok (N cores, M chips)"
    or the errors, summarized."""
    out = sir[:-4] + ".loihi3.stcpkg"
    p = subprocess.run([stc, "compile", sir, "--chip", "loihi3", "--chips", str(chips), "-o", out],
                       capture_output=True, text=True)
    text = p.stdout + p.stderr
    if p.returncode != 0:
        return "FAIL: " + summarize([l for l in text.splitlines() if "error:" in l])
    m = re.search(r"mapping\s+(\d+) cores on (\d+) of", text)
    return "ok (%s cores, %s chips)" % (m.group(1), m.group(2)) if m else "ok"


def summarize(errors):
    """`[op] message (at module)` of each distinct error, shortened."""
    out = []
    for e in errors:
        msg = e.split("error: ", 1)[-1]
        at = re.search(r"\(at ([^)]*)\)\s*$", msg)
        msg = re.sub(r" \(at [^)]*\)\s*$", "", msg)
        msg = re.sub(r" \[[^\[\]]*:\d+: .*$", "", msg)  # the source line
        text = msg.strip()[:150] + (" (at %s)" % at.group(1) if at else "")
        if text not in out:
            out.append(text)
    return "; ".join(out[:3]) or "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spikformer")
    ap.add_argument("--sj-legacy", help="SpikingJelly checkout with spikingjelly/clock_driven (0.0.0.0.12)")
    ap.add_argument("--sj", help="SpikingJelly checkout with spikingjelly/activation_based (0.0.0.0.14)")
    ap.add_argument("--sdt", help="BICLab/Spike-Driven-Transformer checkout")
    ap.add_argument("--out", default="/tmp/upstream_models")
    ap.add_argument("--only", default="")
    ap.add_argument("--stc", default=os.path.join(REPO, "build", "dev", "bin", "stc"))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--paths", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return child(a.child, json.loads(a.paths), a.out)
    os.makedirs(a.out, exist_ok=True)
    shim = tempfile.mkdtemp(prefix="stc_shims_")
    for rel, text in SHIMS.items():
        os.makedirs(os.path.dirname(os.path.join(shim, rel)), exist_ok=True)
        with open(os.path.join(shim, rel), "w") as f:
            f.write(text)
    paths = {k: os.path.abspath(v) for k, v in
             (("spikformer", a.spikformer), ("sj_legacy", a.sj_legacy), ("sj", a.sj), ("sdt", a.sdt)) if v}
    only = [s for s in a.only.split(",") if s]
    rows = []
    for name, (_, needs, shape, T, _) in MODELS.items():
        if only and name not in only:
            continue
        if any(k not in paths for k in needs):
            print("skip %s: needs --%s" % (name, " --".join(k.replace("_", "-") for k in needs)), file=sys.stderr)
            continue
        env = dict(os.environ, PYTHONPATH=shim, OMP_NUM_THREADS="1")
        p = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", name, "--paths", json.dumps(paths),
                            "--out", a.out], capture_output=True, text=True, env=env)
        info = next((json.loads(l[5:]) for l in p.stdout.splitlines() if l.startswith("INFO ")), None)
        if info is None:
            tail = (p.stderr.strip().splitlines() or ["?"])[-1]
            rows.append((name, "build", "FAIL (build: %s)" % tail, "", "", "", "", ""))
            continue
        for mode, e in info["exports"].items():
            if "error" in e:
                rows.append((name, mode, "not exportable upstream: " + e["error"][:120], "", "", "", "", ""))
                continue
            r = import_one(a.stc, e["path"], shape, T)
            with open(e["path"][:-3] + ".import.log", "w") as f:
                f.write(r["log"])
            res = "ok" if r["ok"] else "FAIL: " + summarize(r["errors"])
            rows.append((name, mode, res, "%.3g" % r["max_diff"] if r["max_diff"] is not None else "-",
                         ("yes (%d/%d neurons)" % (r["recognized"], info["neurons"])) if r["spikes_equal"] else "no",
                         "%.2f s" % r["seconds"] if r["seconds"] is not None else "%.2f s (wall)" % r["wall"],
                         "%.1f %% (%.1f-%.1f)" % (100 * info["rate_mean"], 100 * info["rate_min"],
                                                  100 * info["rate_max"]),
                         compile_one(a.stc, e["path"][:-3] + ".sir") if r["ok"] else ""))
            if not r["ok"]:
                for l in r["errors"][:12]:
                    print("  %s: %s" % (name, l), file=sys.stderr)
    head = ("model", "export", "result", "max |logits diff|", "spike counts equal", "import time", "firing rate",
            "stc compile --chip loihi3")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    sys.exit(main())
