#!/usr/bin/python3
"""Generate the TorchScript importer test fixtures into tests/fixtures/torchscript/.

Every fixture is deterministic (fixed seeds, random or BN-calibrated weights),
< 500 KB, and comes with ``NAME.{traced,scripted}.ref.json`` (format described
in the generated README.md).  Run:  /usr/bin/python3 tools/models/make_fixtures.py
"""
import argparse
import os
import sys
import zlib
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import fixture_models as fm  # noqa: E402
from stc_snn import (BaseNode, Leaky, MultiStepIFNode, MultiStepLIFNode,  # noqa: E402
                     StatefulLIFNode, spiking_neurons)

OUT_DIR = os.path.join(common.REPO, "tests", "fixtures", "torchscript")
MAX_BYTES = 500 * 1024
FIXTURES: List[Tuple[str, str, Callable]] = []


def fixture(name: str, description: str):
    def deco(fn):
        FIXTURES.append((name, description, fn))
        return fn
    return deco


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def seed_for(name: str) -> int:
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


_TRAIN_X = None


def train_images(n: int = 256) -> torch.Tensor:
    global _TRAIN_X
    if _TRAIN_X is None:
        _TRAIN_X, _ = common.load_fmnist("train")
    return _TRAIN_X[:n]


def calibrate_bn(model: nn.Module, x: torch.Tensor):
    """Random BN affine params, running stats measured on ``x`` (train mode),
    so that random-weight models have non-trivial firing rates."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for bn in bns:
        with torch.no_grad():
            bn.weight.uniform_(0.8, 1.6)
            bn.bias.uniform_(-0.1, 0.5)
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average
    model.train()
    with torch.no_grad():
        model(x)
    model.eval()
    for bn in bns:
        bn.momentum = 0.1
    for m in model.modules():
        if isinstance(m, StatefulLIFNode):
            m.reset()


def neuron_config(model: nn.Module) -> Dict[str, Dict]:
    cfg = {}
    for n, m in spiking_neurons(model):
        c: Dict = {"type": type(m).__name__}
        if isinstance(m, Leaky):
            c.update(beta=float(m.beta), threshold=float(m.threshold),
                     reset_mechanism=m.reset_mechanism, spike="mem - threshold > 0")
        else:
            c.update(v_threshold=m.v_threshold, v_reset=m.v_reset, spike="v - v_threshold >= 0")
            if hasattr(m, "tau"):
                c["tau"] = m.tau
            if isinstance(m, MultiStepLIFNode):
                c["decay_input"] = m.decay_input
            if isinstance(m, BaseNode):
                c["detach_reset"] = m.detach_reset
            c["surrogate_id"] = id(m.surrogate_function)
        cfg[n] = c
    # replace python ids by small integers (which neurons share a surrogate)
    ids = {}
    for c in cfg.values():
        if "surrogate_id" in c:
            c["surrogate_instance"] = ids.setdefault(c.pop("surrogate_id"), len(ids))
    return cfg


def quantize(x: torch.Tensor, step: float = 0.25) -> torch.Tensor:
    return torch.round(x / step) * step


def std_cases(batch: int = 1) -> List[Tuple[str, torch.Tensor, Dict]]:
    return common.fmnist_cases(n_test=3, n_random=2, batch=batch)


def spec(model, T, cases=None, batch=1, modes=("trace", "script"), **extra) -> Dict:
    cases = cases or std_cases(batch)
    return dict(model=model, T=T, cases=cases, example=cases[0][1], modes=modes, extra=extra)


def lif_pair_fixture(T: int, node1: nn.Module, node2: nn.Module, batch: int = 1) -> Dict:
    model = fm.TinyConvSNN(T, node1, node2)
    calibrate_bn(model, train_images())
    return spec(model, T, batch=batch)


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------
@fixture("lif_t1_b3", "TinyConvSNN (Conv-BN-LIF, MaxPool, Conv-BN-LIF, Linear, mean T) with T=1, "
         "traced with batch size 3")
def _lif_t1():
    return lif_pair_fixture(1, MultiStepLIFNode(), MultiStepLIFNode(detach_reset=True), batch=3)


@fixture("lif_t7_b3", "Same TinyConvSNN with T=7 (unrolled 7x in the traced graph), batch size 3")
def _lif_t7():
    return lif_pair_fixture(7, MultiStepLIFNode(), MultiStepLIFNode(detach_reset=True), batch=3)


@fixture("lif_decay_input_false", "LIF decay_input=False: v_reset=0 uses SpikingJelly's "
         "`v * (1 - 1/tau) + x`, v_reset=-0.5 uses `v - (v - v_reset)/tau + x`")
def _lif_no_decay():
    return lif_pair_fixture(4, MultiStepLIFNode(tau=2.0, decay_input=False, v_threshold=1.0),
                            MultiStepLIFNode(tau=2.0, decay_input=False, v_reset=-0.5))


@fixture("lif_soft_reset", "Soft reset (v_reset=None: v -= spike * v_th), decay_input True "
         "then decay_input False with detach_reset=False")
def _lif_soft():
    return lif_pair_fixture(4, MultiStepLIFNode(tau=2.0, v_reset=None),
                            MultiStepLIFNode(tau=2.0, v_reset=None, decay_input=False, v_threshold=0.75))


@fixture("lif_tau_vth", "Non-default tau and v_th: (tau=3.0, v_th=0.75) and (tau=1.5, v_th=0.3; "
         "0.3 is not representable in float32)")
def _lif_tau():
    return lif_pair_fixture(4, MultiStepLIFNode(tau=3.0, v_threshold=0.75),
                            MultiStepLIFNode(tau=1.5, v_threshold=0.3))


@fixture("lif_v_reset_nonzero", "Hard reset to nonzero v_reset: (v_reset=-0.5, tau=2) and "
         "(v_reset=0.25, tau=4, v_th=1.5); v starts at v_reset")
def _lif_vreset():
    return lif_pair_fixture(4, MultiStepLIFNode(tau=2.0, v_reset=-0.5),
                            MultiStepLIFNode(tau=4.0, v_reset=0.25, v_threshold=1.5))


@fixture("if_node", "MultiStepIFNode (no leak: v = v + x), hard reset then soft reset")
def _if():
    return lif_pair_fixture(4, MultiStepIFNode(), MultiStepIFNode(v_reset=None, v_threshold=0.5))


@fixture("lif_threshold_ties", "No BN, power-of-two weights, inputs quantised to multiples of 1/4: "
         "LIF and IF membranes hit v_th == 1.0 EXACTLY (heaviside(0) = 1 must spike). "
         "The script asserts that ties occur; `ties` in each case counts them")
def _ties():
    torch.manual_seed(seed_for("ties"))
    model = fm.PowerOfTwoTieNet(T=4)
    with torch.no_grad():
        choice = torch.tensor([0.0, 0.25, 0.5, -0.25])
        model.conv.weight.copy_(choice[torch.randint(0, 4, model.conv.weight.shape)])
        model.conv.weight[0].fill_(0.25)  # channel 0 = patch sum / 4: ties when sum == 8
        model.conv.bias.copy_(torch.tensor([0.0, 0.5, 0.25, 1.0]))
        choice = torch.tensor([0.0, 0.0, 0.25, -0.25])
        model.fc1.weight.copy_(choice[torch.randint(0, 4, model.fc1.weight.shape)])
        model.fc1.bias.copy_(torch.full((16,), 0.25))
        model.fc2.weight.copy_(torch.randint(-4, 5, model.fc2.weight.shape) / 8.0)
        model.fc2.bias.zero_()
    model.eval()
    cases = [(n, quantize(x), e) for n, x, e in std_cases()]
    cases.append(("half_grey", torch.full((1, 1, 28, 28), 0.5), {"note": "every patch sums to 8"}))
    total = {}
    for n, x, e in cases:
        e["ties"] = common.count_ties(model, x)
        for k, v in e["ties"].items():
            total[k] = total.get(k, 0) + v
    print("  ties per neuron module:", total)
    assert all(v > 0 for v in total.values()), f"expected threshold ties, got {total}"
    return spec(model, 4, cases=cases)


@fixture("leaky_threshold_ties", "snnTorch Leaky (beta=0.5, power-of-two weights, quantised input): "
         "membranes equal to the threshold occur and must NOT spike (strict >)")
def _leaky_ties():
    torch.manual_seed(seed_for("leaky_ties"))
    model = fm.LeakyTieNet(num_steps=4)
    with torch.no_grad():
        # each hidden neuron sums 8 random pixels * 0.25: cur == 1.0 exactly is common
        w = torch.zeros_like(model.fc1.weight)
        for j in range(w.shape[0]):
            w[j, torch.randperm(784)[:8] + 0] = 0.25
        model.fc1.weight.copy_(w)
        model.fc1.bias.zero_()
        model.fc2.weight.copy_(torch.randint(-1, 3, model.fc2.weight.shape) / 4.0)
        model.fc2.bias.copy_(torch.full((10,), 0.5))
    model.eval()
    cases = [(n, quantize(x), e) for n, x, e in std_cases()]
    total = {}
    for n, x, e in cases:
        e["ties"] = common.count_ties(model, x)
        for k, v in e["ties"].items():
            total[k] = total.get(k, 0) + v
    print("  ties per neuron module:", total)
    assert total.get("lif1", 0) > 0, f"expected threshold ties, got {total}"
    return spec(model, 4, cases=cases)


@fixture("leaky_mlp", "snnTorch-style Leaky MLP 784-32-10, beta=0.9, 6 steps, subtract reset, "
         "reset computed from the previous membrane; output = mean membrane of the last layer")
def _leaky():
    torch.manual_seed(seed_for("leaky_mlp"))
    model = fm.LeakyMLP(hidden=32, beta=0.9, num_steps=6)
    with torch.no_grad():
        model.fc1.weight.mul_(2.5)
        model.fc2.weight.mul_(4.0)
    return spec(model.eval(), 6)


@fixture("stateful_lif", "Single-step LIFs whose membranes are registered buffers updated in place "
         "(self.v.copy_(...)) and persist across forward calls (`stateful`: true). Cases are "
         "consecutive calls on ONE freshly loaded module; `reset()` is exported (scripted)")
def _stateful():
    model = fm.StatefulNet(batch=1)
    with torch.no_grad():  # calibrate conv+bn only (the state buffers are batch-1)
        model.bn.weight.uniform_(0.8, 1.6)
        model.bn.bias.uniform_(-0.1, 0.5)
        model.bn.momentum = None
        model.bn.train()
        model.bn(model.conv(train_images()))
        model.bn.momentum = 0.1
        model.fc.weight.mul_(20.0)
    model.eval()
    base = std_cases()
    x0 = base[0][1]
    cases = [("step0_fmnist_test_0", x0, dict(base[0][2], step=0)),
             ("step1_fmnist_test_0", x0, dict(base[0][2], step=1)),
             ("step2_fmnist_test_0", x0, dict(base[0][2], step=2)),
             ("step3_fmnist_test_1", base[1][1], dict(base[1][2], step=3)),
             ("step4_fmnist_test_2", base[2][1], dict(base[2][2], step=4)),
             ("step5_random_uniform_0", base[3][1], dict(base[3][2], step=5)),
             ("step6_random_uniform_1", base[4][1], dict(base[4][2], step=6))]
    return spec(model, 1, cases=cases, stateful=True, state_buffers=["lif1.v", "lif2.v"],
                reset_method="reset", note="timesteps=1 per forward call; membrane state "
                "persists across calls; evaluate cases in order on one freshly loaded module")


@fixture("nested_modules", "Neurons at deep paths (model.body.stages.N.0.block.1) via "
         "ModuleDict > Module > ModuleList > Sequential > Module > Sequential; SeqToANNContainer; "
         "Identity; Dropout in eval; unused LayerNorms and an unused LIF that are never called")
def _nested():
    model = fm.NestedWrapper(T=3)
    calibrate_bn(model, train_images())
    return spec(model, 3)


@fixture("spikformer_conv1d", "Tiny Spikformer (dim 32, 2 heads, MLP ratio 2, T=2) with Conv1d(k=1)+BN1d "
         "q/k/v/proj/MLP (CIFAR repo); block 0 (q@k^T)@v, block 1 q@(k^T@v); attn_lif v_th=0.5")
def _sf_conv():
    torch.manual_seed(seed_for("spikformer_conv1d"))
    model = fm.TinySpikformer(T=2, dim=32, heads=2, linear=False)
    calibrate_bn(model, train_images())
    return spec(model, 2)


@fixture("spikformer_linear", "Same tiny Spikformer with Linear + BN1d(transpose) blocks "
         "(original repo), tokens as [T,B,N,C]; T=3")
def _sf_lin():
    torch.manual_seed(seed_for("spikformer_linear"))
    model = fm.TinySpikformer(T=3, dim=32, heads=2, linear=True)
    calibrate_bn(model, train_images())
    return spec(model, 3)


@fixture("spike_driven_sdsa", "Spike-driven Transformer style: membrane shortcut, SDSA "
         "(kv = (k*v).sum(-2, keepdim); talking_heads_lif v_th 0.5; x = q*kv), Conv2d 1x1 + BN2d")
def _sdsa():
    torch.manual_seed(seed_for("sdsa"))
    model = fm.SpikeDrivenNet(T=2, dim=16, heads=2)
    calibrate_bn(model, train_images())
    return spec(model, 2)


@fixture("shape_ops", "MaxPool2d(3,2,1), F.max_pool2d(2), AvgPool2d(2), F.avg_pool2d(3,1,1,"
         "count_include_pad=False), adaptive_avg_pool2d (1x1 and uneven 7->4), flatten/view/permute/"
         "transpose/contiguous, torch.bmm, torch.matmul, mul by scalar")
def _shape_ops():
    torch.manual_seed(seed_for("shape_ops"))
    model = fm.ShapeOpsNet(T=3)
    calibrate_bn(model, train_images())
    return spec(model, 3)


@fixture("shared_surrogate", "SpikingJelly-style default-argument surrogates: lif1 and lif2 share "
         "ONE Sigmoid instance (MultiStepLIFNode's default argument; the traced graph passes it as an "
         "extra method argument), lif_out uses MultiStepIFNode's default instance (shared with every "
         "other default IF node in the process), lif_own has its own Sigmoid(alpha=2); "
         "SeqToANNContainer layers")
def _shared():
    torch.manual_seed(seed_for("shared_surrogate"))
    model = fm.SharedSurrogateNet(T=3)
    assert model.lif1.surrogate_function is model.lif2.surrogate_function
    assert model.lif_out.surrogate_function is not model.lif1.surrogate_function
    assert model.lif_own.surrogate_function is not model.lif1.surrogate_function
    calibrate_bn(model, train_images())
    with torch.no_grad():  # Linear layers without BN: scale up for activity
        model.fc1.module[1].weight.mul_(12.0)
        model.fc2.module.weight.mul_(8.0)
    return spec(model, 3)


@fixture("buffered_neurons", "Neurons whose scripted step function fills a zeros_like buffer "
         "(out[t] = spike: select + copy_ into a view) and compares with `(v >= v_th).to(x_seq)` "
         "(the sequence as dtype reference only), as SpikingJelly activation_based's eval path does; "
         "LIF hard reset and IF soft reset, T=3")
def _buffered():
    torch.manual_seed(seed_for("buffered_neurons"))
    model = fm.BufferedNeuronNet(T=3)
    calibrate_bn(model, train_images())
    with torch.no_grad():  # no BN before the IF neuron: scale up for activity
        model.fc1.weight.mul_(2.5)
    return spec(model, 3)


@fixture("cat_steps_b1", "TinyConvSNN with neurons in the older SpikingJelly multi-step style: "
         "torch.cat([spike.unsqueeze(0) for each t], 0) instead of stack; batch size 1 (the new "
         "size-1 axis must not be taken for the batch), T=4; hard reset and soft reset")
def _cat_steps():
    return lif_pair_fixture(4, fm.CatStepsLIFNode(tau=2.0), fm.CatStepsLIFNode(tau=2.0, v_reset=None), batch=1)


@fixture("voting_b1", "Voting readout as in SpikingJelly's VotingLayer: avg_pool1d over "
         "x.flatten(0, 1).unsqueeze(1) (a channel axis between batch and features), after a "
         "torch.cat-of-steps neuron; batch size 1, T=3")
def _voting():
    torch.manual_seed(seed_for("voting_b1"))
    model = fm.VotingNet(T=3)
    calibrate_bn(model, train_images())
    return spec(model, 3, batch=1)


@fixture("negative_time_axis_input", "NEGATIVE: input [B, T=3, 1, 28, 28] that already carries "
         "the time axis (forward transposes it to the front); the compiler should reject it with a "
         "diagnostic at the transpose saying the input carries a time axis")
def _time_axis_input():
    torch.manual_seed(seed_for("negative_time_axis_input"))
    model = fm.TimeAxisInputNet()
    calibrate_bn(model, train_images().unsqueeze(1).repeat(1, 3, 1, 1, 1))
    cases = common.fmnist_cases(n_test=0, n_random=3, shape=(3, 1, 28, 28))
    return spec(model, 3, cases=cases, negative=True)


@fixture("negative_unsupported_ops", "NEGATIVE: valid TorchScript, but a half-written buffer "
         "(`first[0] = x[0]`, read before the other steps are written), softmax attention, LayerNorm "
         "and GELU after a spiking stem; the compiler should reject it with a diagnostic "
         "naming aten::select_scatter / aten::softmax / aten::layer_norm / aten::gelu")
def _unsupported():
    torch.manual_seed(seed_for("unsupported"))
    model = fm.UnsupportedOpsNet(T=2)
    calibrate_bn(model, train_images())
    return spec(model, 2, negative=True)


# --------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------
README_HEAD = """# TorchScript importer fixtures

Generated by `tools/models/make_fixtures.py` (do not edit by hand; regenerate
with `/usr/bin/python3 tools/models/make_fixtures.py`, torch {torch}).
All models take float32 images `[B, 1, 28, 28]` with pixels/255 in [0, 1]
(no normalisation outside the model); weights are random with BatchNorm
statistics calibrated on Fashion-MNIST training images (fixed seeds).

## Reference files

Each `NAME.traced.pt` (torch.jit.trace, eval mode) / `NAME.scripted.pt`
(torch.jit.script) has a `NAME.traced.ref.json` / `NAME.scripted.ref.json`:

```
{{"model", "file", "export": "trace"|"script", "timesteps", "input_shape", "num_classes",
 "description", "neuron_config": {{module path: {{type, tau, v_threshold, v_reset, ...}}}},
 "cases": [{{"name", "dataset_index"/"label" (test images) or "seed"/"draw" (U[0,1) inputs),
            "input": [flat row-major float32], "logits": [flat row-major float32],
            "lif": {{module path: {{"shape", "total", "spikes_per_step"}}}},
            "ties": {{module path: number of (neuron, step) with membrane == threshold}}}}]}}
```

`lif` keys are `named_modules()` paths of every spiking neuron that ran
(neurons that are registered but never called, e.g. `nested_modules`'
`unused_lif`, appear only in `neuron_config`);
counts come from forward hooks on the eager model (sum over batch and
neurons).  `shape` is the spike tensor `[T, B, ...]` (single-step neurons:
per-call outputs stacked, so `[calls, B, ...]`).  Floats are Python floats of
float32 values and round-trip exactly; the exported files reproduce `logits`
bit-exactly with torch {torch} on CPU.  `neuron_config.*.surrogate_instance`
tells which neurons share one surrogate module object.  Extra keys:
`stateful`/`state_buffers`/`reset_method`/`note` (stateful_lif), `negative`
(negative_unsupported_ops); per case `step` (stateful_lif), `ties`.

## Fixtures

| name | files | what it exercises |
|---|---|---|
"""

IMPORTER_NOTES = """
## What the graphs look like (torch 1.13; see `tools/models/inspect_torchscript.py`)

* **Traced LIF step** (`MultiStepLIFNode`, decay_input, v_reset 0; T unrolled):
  `aten::select(x_seq, 0, t)` -> `aten::sub(x, v)` -> `aten::div(_, tau)` ->
  `aten::add(v, _)` -> `aten::sub(v, v_th)` -> `prim::CallMethod[forward{k}]`
  into the surrogate (= `aten::ge(x, 0)` + `aten::to(_, dtype=6)`) ->
  [`aten::detach` if detach_reset] -> `aten::rsub(spike, 1.)` -> `aten::mul(_, v)` ->
  `aten::mul(spike, v_reset)` -> `aten::add`; outputs joined by
  `prim::ListConstruct` + `aten::stack(_, 0)`.  v starts as
  `aten::full_like(x_seq[0], v_reset)`.  The reset after the last step is dead
  code and is not recorded.  Soft reset: `aten::sub(v, aten::mul(spike, v_th))`.
  decay_input=False, v_reset 0: `aten::add(aten::mul(v, 1 - 1/tau), x)`.
* **Python scalars** (tau, v_th, v_reset, 0.125 attention scale, ...) are
  recorded by the tracer as **0-dim Double tensor constants**
  (`prim::Constant[value={2}]`, `CONSTANTS.cN` in the code), not as Scalars:
  `aten::sub(Tensor, Tensor, alpha)`.  The result stays float32; compute with the
  constant rounded to float32 (v_th 0.3 -> 0.30000001192...).  `1. - s` is an
  exception (`aten::rsub(s, 1., 1)` with a float Scalar).
* **Division by tau is a true float32 division** (`x / 3.0` differs from
  `x * (1/3)` in ~1/3 of all elements); importers must not turn it into a
  multiplication unless 1/tau is a power of two.
* **Ties**: `heaviside(v - v_th) = (v - v_th >= 0)`; with IEEE subnormals this is
  exactly `v >= v_th`.  snnTorch Leaky uses `(mem - thr > 0)` (strict).
  Spikformer attention outputs are multiples of 0.125, so `attn_lif`
  (v_th 0.5, tau 2) sees exact ties in practice.
* **Shared surrogate modules** (SpikingJelly default-argument instance): the
  tracer passes the shared module as an extra *argument* into every traced
  forward that (transitively) uses it; it is read once in the top-level forward
  from whichever path it was last found at (e.g. `blocks.1.mlp.fc2_lif.surrogate_function`).
  In the saved file that one object carries methods `forward`, `forward1`, ...
  (one per call site), while the other paths' surrogate objects have *no*
  methods at all.  Modules called several times (snnTorch `Leaky` per time step,
  `fc2` inside the step loop) likewise get `forward`, `forward1`, ...
* **nn.Identity** is traced as `def forward(self) -> NoneType: return None` and
  called with no arguments; its input flows past it.
* **Shapes** read in Python (`T, B, C, N = x.shape`, `C // heads`) become
  `aten::size` -> `prim::NumToTensor` -> `aten::Int` chains and
  `aten::floor_divide(Tensor, 0-dim constant)` in traced graphs.
* **Scripted models** keep the time loop (`prim::Loop` over `aten::size(x_seq)[0]`),
  call `neuronal_charge` / `neuronal_fire` / `neuronal_reset` / `v_init` via
  `prim::CallMethod`, read tau / v_th / v_reset / decay_input with
  `prim::GetAttr` and branch on them with `prim::If` (v_reset is
  `Optional[float]`).  `torch.jit.freeze` + inlining folds all of that into
  constants; note that frozen graphs deduplicate constants by value and keep a
  random one's name (`%self.patch_embed.proj_bn.training` may be the `False`
  used elsewhere).  In scripted graphs `1. - s` is `aten::neg` + `aten::add`.
  The training-only surrogate branch is removed at compile time
  (`torch.jit.is_scripting()`), so no `prim::PythonOp` appears anywhere.
* Stateful fixture: `aten::copy_` into the buffer `v` (`prim::GetAttr[name="v"]`).
"""

README_NEG = """
## Negative fixtures

| file | expected behaviour |
|---|---|
| `negative_truncated.pt` | first half of `lif_t7_b3.traced.pt` (corrupt zip archive): clean load error, no crash |
| `negative_state_dict.pt` | plain `torch.save(state_dict)` pickle of TinyConvSNN, not TorchScript (no `code/` / `constants.pkl`): "not a TorchScript module" diagnostic |
| `negative_time_axis_input.*.pt` | valid TorchScript whose input [B, T, 1, 28, 28] carries the time axis: diagnostic at the transpose |
| `negative_unsupported_ops.*.pt` | valid TorchScript with a half-written buffer, softmax/LayerNorm/GELU (see table): unsupported-op diagnostics |
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out-dir", default=OUT_DIR)
    ap.add_argument("--only", nargs="*", help="fixture names to (re)generate")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    common.setup(0, threads=args.threads)
    os.makedirs(args.out_dir, exist_ok=True)
    rows = []
    for name, description, builder in FIXTURES:
        if args.only and name not in args.only:
            continue
        print(f"[{name}]")
        common.setup(seed_for(name), threads=args.threads)
        s = builder()
        model = s["model"].eval()
        rates = common.firing_rate_table(model, s["example"])
        print("  firing rates:", {k: round(v, 3) for k, v in rates.items()})
        if not s["extra"].get("stateful"):  # (would advance the state)
            for _, x, e in s["cases"]:
                e.setdefault("ties", common.count_ties(model, x))
        extra = {"description": description, "neuron_config": neuron_config(model)}
        extra.update(s["extra"])
        paths = common.export_and_verify(
            model, name, args.out_dir, s["example"], s["cases"], timesteps=s["T"], num_classes=10,
            modes=s["modes"], extra=extra, max_bytes=MAX_BYTES,
            stateful=bool(s["extra"].get("stateful")), log=lambda m: print("  " + m))
        files = ", ".join(f"`{os.path.basename(p)}`" for p in paths.values())
        rows.append(f"| `{name}` | {files} | {description} |")
        if name == "lif_t7_b3":
            with open(paths["trace"], "rb") as f:
                data = f.read()
            with open(os.path.join(args.out_dir, "negative_truncated.pt"), "wb") as f:
                f.write(data[:len(data) // 2])
            torch.save(model.state_dict(), os.path.join(args.out_dir, "negative_state_dict.pt"))
    if not args.only:
        with open(os.path.join(args.out_dir, "README.md"), "w") as f:
            f.write(README_HEAD.format(torch=torch.__version__))
            f.write("\n".join(rows) + "\n")
            f.write(README_NEG)
            f.write(IMPORTER_NOTES)
    for fn in sorted(os.listdir(args.out_dir)):
        size = os.path.getsize(os.path.join(args.out_dir, fn))
        assert fn.endswith((".md", ".json")) or size < MAX_BYTES, fn
        print(f"{size:9d}  {fn}")


if __name__ == "__main__":
    main()
