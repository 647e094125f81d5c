"""Shared helpers for the STC Studio model scripts: Fashion-MNIST loading,
training loop, evaluation, TorchScript export + verification, reference JSON
writing (spike counts via forward hooks) and MANIFEST entries."""
import gzip
import json
import math
import os
import random
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

# libgomp busy-waits between parallel regions by default; on a shared (loaded)
# machine that makes 2-thread training ~5x slower.  Must be set before torch.
os.environ.setdefault("GOMP_SPINCOUNT", "10000")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
RESOURCES = os.path.join(REPO, "resources", "models")
FMNIST_DIR = os.environ.get("FMNIST_DIR", "/usr/share/datasets/fashion-mnist")
sys.path.insert(0, HERE)

from stc_snn import MULTI_STEP_NEURON_TYPES, Leaky, spiking_neurons  # noqa: E402

FMNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def setup(seed: int = 0, threads: int = 2):
    torch.set_num_threads(threads)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------
def _read_idx(path: str) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    assert magic >> 8 == 0x08, f"{path}: not an unsigned-byte IDX file"
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return arr.reshape(dims)


def load_fmnist(split: str) -> Tuple[torch.Tensor, torch.Tensor]:
    """Returns (images float32 [N,1,28,28] = pixels/255, labels int64 [N])."""
    prefix = "train" if split == "train" else "t10k"
    images = _read_idx(os.path.join(FMNIST_DIR, f"{prefix}-images-idx3-ubyte.gz"))
    labels = _read_idx(os.path.join(FMNIST_DIR, f"{prefix}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(images.astype(np.float32) / np.float32(255.0)).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


# --------------------------------------------------------------------------
# training / evaluation
# --------------------------------------------------------------------------
@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 500) -> float:
    model.eval()
    correct = 0
    for i in range(0, x.shape[0], batch_size):
        logits = model(x[i:i + batch_size])
        correct += int((logits.argmax(1) == y[i:i + batch_size]).sum())
    return correct / x.shape[0]


def train_classifier(model: nn.Module, epochs: int, batch_size: int, lr: float,
                     weight_decay: float = 0.0, seed: int = 0, log: Callable = print,
                     loss_fn: Optional[Callable] = None, augment_flip: bool = False,
                     eval_every_epoch: bool = True, t_schedule: Optional[List[int]] = None,
                     t_attr: str = "T", warmup: float = 0.05,
                     epoch_fractions: Optional[List[float]] = None) -> Dict:
    """AdamW + OneCycle (cosine) on the full Fashion-MNIST training set.
    ``t_schedule``: optional number of time steps per epoch (curriculum; the
    model attribute ``t_attr`` is set before each epoch and restored after).
    ``epoch_fractions``: optional share of the (shuffled) training set each
    epoch sees, e.g. 0.5 for a half epoch; the learning-rate schedule spans
    the steps actually taken.
    Returns dict(train_seconds, test_accuracy, history)."""
    final_T = getattr(model, t_attr, None)
    x_train, y_train = load_fmnist("train")
    x_test, y_test = load_fmnist("test")
    gen = torch.Generator().manual_seed(seed)
    full_epoch_steps = (x_train.shape[0] + batch_size - 1) // batch_size
    epoch_steps = [full_epoch_steps if not epoch_fractions else
                   max(1, math.ceil(full_epoch_steps * epoch_fractions[e])) for e in range(epochs)]
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=sum(epoch_steps),
                                                pct_start=warmup, anneal_strategy="cos",
                                                div_factor=10.0, final_div_factor=100.0)
    loss_fn = loss_fn or (lambda logits, target: F.cross_entropy(logits, target))
    history = []
    train_seconds = 0.0
    for epoch in range(epochs):
        if t_schedule:
            setattr(model, t_attr, t_schedule[epoch])
            log(f"epoch {epoch + 1}: {t_attr} = {t_schedule[epoch]}")
        model.train()
        t0 = time.time()
        perm = torch.randperm(x_train.shape[0], generator=gen)
        run_loss, run_correct, seen = 0.0, 0, 0
        steps_per_epoch = epoch_steps[epoch]
        for step in range(steps_per_epoch):
            idx = perm[step * batch_size:(step + 1) * batch_size]
            xb, yb = x_train[idx], y_train[idx]
            if augment_flip:
                flip = torch.rand(xb.shape[0], generator=gen) < 0.5
                xb = torch.where(flip[:, None, None, None], xb.flip(-1), xb)
            logits = model(xb)
            loss = loss_fn(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            run_loss += float(loss) * xb.shape[0]
            run_correct += int((logits.argmax(1) == yb).sum())
            seen += xb.shape[0]
            if (step + 1) % 100 == 0 or step + 1 == steps_per_epoch:
                log(f"epoch {epoch + 1}/{epochs} step {step + 1}/{steps_per_epoch} "
                    f"loss {run_loss / seen:.4f} train_acc {run_correct / seen:.4f} "
                    f"lr {sched.get_last_lr()[0]:.2e} elapsed {train_seconds + time.time() - t0:.0f}s")
        train_seconds += time.time() - t0
        entry = {"epoch": epoch + 1, "train_loss": run_loss / seen,
                 "train_acc": run_correct / seen, "train_seconds": train_seconds}
        if t_schedule:
            entry[t_attr] = t_schedule[epoch]
            setattr(model, t_attr, final_T)
        if epoch_fractions:
            entry["fraction"] = epoch_fractions[epoch]
        if eval_every_epoch or epoch + 1 == epochs:
            entry["test_acc"] = evaluate(model, x_test, y_test)
            log(f"epoch {epoch + 1}: test_acc {entry['test_acc']:.4f} "
                f"(training time so far {train_seconds:.0f}s)")
        history.append(entry)
    return {"train_seconds": train_seconds, "test_accuracy": history[-1]["test_acc"],
            "history": history}


# --------------------------------------------------------------------------
# spike recording / reference JSON
# --------------------------------------------------------------------------
class SpikeRecorder:
    """Forward hooks on every spiking neuron; per neuron module accumulates the
    output spike tensor of one forward call (Leaky: one call per time step)."""

    def __init__(self, model: nn.Module):
        self.names = [n for n, _ in spiking_neurons(model)]
        self.outputs: Dict[str, List[torch.Tensor]] = {n: [] for n in self.names}
        self.inputs: Dict[str, List[torch.Tensor]] = {n: [] for n in self.names}
        self.handles = []
        for name, mod in spiking_neurons(model):
            self.handles.append(mod.register_forward_hook(self._hook(name)))

    def _hook(self, name):
        def fn(mod, args, out):
            spk = out[0] if isinstance(out, tuple) else out
            self.outputs[name].append(spk.detach().clone())
            self.inputs[name].append(args[0].detach().clone())
        return fn

    def clear(self):
        for n in self.names:
            self.outputs[n].clear()
            self.inputs[n].clear()

    def remove(self):
        for h in self.handles:
            h.remove()

    def summary(self, multi_step: Dict[str, bool]) -> Dict[str, Dict]:
        res = {}
        for n in self.names:
            outs = self.outputs[n]
            if not outs:
                continue  # neuron module never called
            if multi_step[n]:
                assert len(outs) == 1, f"{n} called {len(outs)} times"
                s = outs[0]
            else:  # single-step neuron: stack the per-call outputs as time
                s = torch.stack(outs)
            assert bool(((s == 0) | (s == 1)).all()), f"{n}: non-binary spikes"
            per_step = s.reshape(s.shape[0], -1).sum(1)
            res[n] = {"shape": list(s.shape), "total": int(s.sum()),
                      "spikes_per_step": [int(v) for v in per_step]}
        return res


def _floats(t: torch.Tensor) -> List[float]:
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def make_ref_cases(model: nn.Module, inputs: Sequence[Tuple[str, torch.Tensor, Dict]],
                   multi_step: Dict[str, bool], forward: Optional[Callable] = None) -> List[Dict]:
    """Runs the eager model on each input and collects logits + spike counts."""
    forward = forward or model
    rec = SpikeRecorder(model)
    cases = []
    try:
        with torch.no_grad():
            for name, x, extra in inputs:
                rec.clear()
                y = forward(x)
                case = {"name": name}
                case.update(extra)
                case["input"] = _floats(x)
                case["logits"] = _floats(y)
                case["lif"] = rec.summary(multi_step)
                cases.append(case)
    finally:
        rec.remove()
    return cases


def fmnist_cases(n_test: int = 3, n_random: int = 2, batch: int = 1, seed: int = 1234,
                 shape: Tuple[int, ...] = (1, 28, 28)) -> List[Tuple[str, torch.Tensor, Dict]]:
    """``n_test`` test-set images (indices 0..) and ``n_random`` seeded U[0,1) inputs."""
    out = []
    if n_test:
        x_test, y_test = load_fmnist("test")
        for i in range(n_test):
            idx = list(range(i * batch, (i + 1) * batch))
            x = x_test[idx[0]:idx[-1] + 1]
            extra = ({"dataset_index": idx[0], "label": int(y_test[idx[0]])} if batch == 1 else
                     {"dataset_index": idx, "label": [int(y_test[j]) for j in idx]})
            out.append((f"fmnist_test_{idx[0]}", x, extra))
    g = torch.Generator().manual_seed(seed)
    for i in range(n_random):
        out.append((f"random_uniform_{i}", torch.rand((batch,) + tuple(shape), generator=g),
                    {"seed": seed, "draw": i}))
    return out


def write_json(path: str, obj: Dict):
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


# --------------------------------------------------------------------------
# export + verification
# --------------------------------------------------------------------------
def export_and_verify(model: nn.Module, name: str, out_dir: str, example: torch.Tensor,
                      cases: List[Tuple[str, torch.Tensor, Dict]], timesteps: int,
                      num_classes: int, modes: Sequence[str] = ("trace", "script"),
                      multi_step: Optional[Dict[str, bool]] = None, extra: Optional[Dict] = None,
                      max_bytes: int = 10 * 1024 * 1024, stateful: bool = False,
                      log: Callable = print) -> Dict[str, str]:
    """Exports ``name.traced.pt`` / ``name.scripted.pt`` (+ ``.ref.json`` each),
    reloads them with torch.jit.load and checks they reproduce the eager
    logits exactly on every case (in order: for ``stateful`` models the state
    carries over from case to case, starting from the saved initial state).
    Returns {mode: path}."""
    model.eval()
    if multi_step is None:
        multi_step = {n: isinstance(m, MULTI_STEP_NEURON_TYPES) for n, m in spiking_neurons(model)}
    init_buffers = {n: b.detach().clone() for n, b in model.named_buffers()}

    def restore(mod):
        with torch.no_grad():
            for n, b in mod.named_buffers():
                b.copy_(init_buffers[n])

    ref_cases = make_ref_cases(model, cases, multi_step)
    restore(model)
    paths = {}
    for mode in modes:
        fname = f"{name}.{'traced' if mode == 'trace' else 'scripted'}.pt"
        path = os.path.join(out_dir, fname)
        with torch.no_grad():
            if mode == "trace":
                exported = torch.jit.trace(model, example, check_trace=not stateful)
            else:
                exported = torch.jit.script(model)
        restore(exported)
        restore(model)
        exported.save(path)
        size = os.path.getsize(path)
        assert size < max_bytes, f"{path} is {size} bytes"
        loaded = torch.jit.load(path)
        loaded.eval()
        worst = 0.0
        with torch.no_grad():
            for (cname, x, _), ref in zip(cases, ref_cases):
                got = loaded(x)
                want = torch.tensor(ref["logits"], dtype=torch.float32).reshape(got.shape)
                diff = float((got - want).abs().max())
                worst = max(worst, diff)
                assert torch.equal(got, want), f"{fname}/{cname}: max abs diff {diff}"
        log(f"{fname}: {size} bytes, reload OK, max |logits - eager| over "
            f"{len(cases)} cases = {worst}")
        ref = {"model": name, "file": fname, "export": mode, "timesteps": timesteps,
               "input_shape": list(example.shape), "num_classes": num_classes}
        if extra:
            ref.update(extra)
        ref["cases"] = ref_cases
        write_json(os.path.join(out_dir, f"{name}.{'traced' if mode == 'trace' else 'scripted'}.ref.json"), ref)
        paths[mode] = path
    return paths


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_neurons(model: nn.Module, example: torch.Tensor) -> Dict[str, int]:
    """Neurons per spiking module = elements of one time step's spike tensor
    for batch size 1."""
    model.eval()
    rec = SpikeRecorder(model)
    try:
        with torch.no_grad():
            model(example[:1])
    finally:
        rec.remove()
    res = {}
    for n in rec.names:
        outs = rec.outputs[n]
        if outs:
            multi = isinstance(dict(model.named_modules())[n], MULTI_STEP_NEURON_TYPES)
            one = outs[0][0] if multi else outs[0]
            res[n] = int(one.numel())
    return res


# --------------------------------------------------------------------------
# bundled-model driver
# --------------------------------------------------------------------------
def bundled_main(name: str, build_model: Callable[[], nn.Module], description: str, timesteps: int,
                 defaults: Dict, arch: Dict, script_file: str):
    """argparse + seed + train + full test-set accuracy + export/verify +
    ``NAME.metrics.json`` (read by write_manifest.py).  ``--reexport`` skips
    training: the weights are loaded from the existing ``NAME.scripted.pt``,
    the test accuracy is re-measured and must match metrics.json, and the
    exports + reference files are rewritten (e.g. after a ref-format change)."""
    import argparse
    ap = argparse.ArgumentParser(description=description,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=defaults["epochs"])
    ap.add_argument("--batch-size", type=int, default=defaults["batch_size"])
    ap.add_argument("--lr", type=float, default=defaults["lr"])
    ap.add_argument("--weight-decay", type=float, default=defaults.get("weight_decay", 0.0))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--t-schedule", default=defaults.get("t_schedule"),
                    help="comma-separated time steps per training epoch (curriculum); "
                         "T x FRACTION (e.g. 4x0.5) trains that epoch on part of the training set")
    ap.add_argument("--out-dir", default=RESOURCES)
    ap.add_argument("--reexport", action="store_true", help="no training: reload weights and re-export")
    args = ap.parse_args()
    t_schedule, fractions = None, None
    if args.t_schedule:
        entries = [v.split("x") for v in args.t_schedule.split(",")]
        t_schedule = [int(e[0]) for e in entries]
        if any(len(e) > 1 for e in entries):
            fractions = [float(e[1]) if len(e) > 1 else 1.0 for e in entries]
            assert all(0 < f <= 1 for f in fractions), "epoch fractions must be in (0, 1]"
    assert t_schedule is None or len(t_schedule) == args.epochs, "--t-schedule needs one entry per epoch"

    setup(args.seed, args.threads)
    os.makedirs(args.out_dir, exist_ok=True)
    metrics_path = os.path.join(args.out_dir, f"{name}.metrics.json")
    model = build_model()
    print(model)
    print(f"parameters: {count_params(model)}")
    x_test, y_test = load_fmnist("test")
    if args.reexport:
        with open(metrics_path) as f:
            metrics = json.load(f)
        trained = torch.jit.load(os.path.join(args.out_dir, f"{name}.scripted.pt"))
        model.load_state_dict(trained.state_dict())
        acc = evaluate(model, x_test, y_test)
        print(f"reloaded weights: test accuracy {acc:.4f} (metrics.json: {metrics['test_accuracy']:.4f})")
        assert acc == metrics["test_accuracy"], "reloaded model does not reproduce the recorded accuracy"
    else:
        load0 = os.getloadavg()[0]
        cpu0 = time.process_time()
        result = train_classifier(model, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                                  weight_decay=args.weight_decay, seed=args.seed,
                                  t_schedule=t_schedule, t_attr=defaults.get("t_attr", "T"),
                                  epoch_fractions=fractions)
        cpu_seconds = time.process_time() - cpu0
        load1 = os.getloadavg()[0]
        acc = evaluate(model, x_test, y_test)
        print(f"final test accuracy (10000 images): {acc:.4f}; training wall time "
              f"{result['train_seconds']:.0f}s, process CPU time {cpu_seconds:.0f}s")
        metrics = {
            "model": name,
            "test_accuracy": acc,
            "train_seconds": result["train_seconds"],
            "train_cpu_seconds": cpu_seconds,
            "loadavg_1min_start_end": [load0, load1],
            "history": result["history"],
            "hyperparameters": vars(args),
            "command": " ".join(["/usr/bin/python3", f"tools/models/{script_file}"] + [
                f"--{k.replace('_', '-')} {v}" for k, v in sorted(vars(args).items())
                if k not in ("out_dir", "threads", "reexport")
                and v != defaults.get(k, ap.get_default(k))]),
            "torch_version": torch.__version__,
            "threads": torch.get_num_threads(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
    model.eval()
    example = x_test[:1].clone()
    cases = fmnist_cases(n_test=3, n_random=2)
    ties: Dict[str, int] = {}
    for _, x, e in cases:
        e["ties"] = count_ties(model, x)
        for k, v in e["ties"].items():
            ties[k] = ties.get(k, 0) + v
    print("membrane == threshold ties on the reference cases:", ties)
    extra = {"description": description.strip().splitlines()[0], "test_accuracy": acc}
    export_and_verify(model, name, args.out_dir, example, cases, timesteps=timesteps,
                      num_classes=10, extra=extra)
    neurons = count_neurons(model, example)
    metrics.update({
        "description": description.split("Usage:")[0].strip(),
        "arch_kwargs": {k: (list(v) if isinstance(v, tuple) else v) for k, v in arch.items()},
        "timesteps": timesteps,
        "parameters": count_params(model),
        "neurons_per_module": neurons,
        "neurons": sum(neurons.values()),
        "threshold_ties_on_ref_cases": ties,
    })
    with open(metrics_path, "w") as f:
        json.dump(metrics, f, indent=1)
    print(json.dumps({k: metrics[k] for k in ("parameters", "neurons", "test_accuracy",
                                              "train_seconds", "train_cpu_seconds")}))
    return model, metrics


# --------------------------------------------------------------------------
# random-weight models: BN recalibration to a target firing rate
# --------------------------------------------------------------------------
def smooth_noise(n: int, channels: int, size: int, seed: int = 0) -> torch.Tensor:
    """Image-like noise in [0,1]: low-resolution uniform noise upsampled
    bilinearly plus a little per-pixel noise."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, channels, max(size // 8, 2), max(size // 8, 2), generator=g)
    x = F.interpolate(low, size=(size, size), mode="bilinear", align_corners=False)
    x = x + 0.1 * torch.rand(n, channels, size, size, generator=g)
    return x.clamp(0, 1)


def _bn_to_lif_pairs(model: nn.Module, x: torch.Tensor) -> List[Tuple[nn.Module, str]]:
    """Pairs each BatchNorm with the next spiking neuron called after it."""
    names = {m: n for n, m in model.named_modules()}
    order: List[nn.Module] = []
    hooks = [m.register_forward_hook(lambda m, i, o: order.append(m)) for m in model.modules()
             if isinstance(m, nn.modules.batchnorm._BatchNorm) or m in dict(spiking_neurons(model)).values()]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    pairs, pending = [], []
    neuron_set = set(m for _, m in spiking_neurons(model))
    for m in order:
        if m in neuron_set:
            pairs.extend((bn, names[m]) for bn in pending)
            pending = []
        else:
            pending.append(m)
    return pairs


def firing_rate_table(model: nn.Module, x: torch.Tensor) -> Dict[str, float]:
    rec = SpikeRecorder(model)
    try:
        with torch.no_grad():
            model(x)
    finally:
        rec.remove()
    return {n: float(torch.stack(o).float().mean()) for n, o in rec.outputs.items() if o}


def count_ties(model: nn.Module, x: torch.Tensor) -> Dict[str, int]:
    """Number of (neuron, step) pairs whose charged membrane equals the
    threshold exactly, per spiking module (eager recomputation)."""
    rec = SpikeRecorder(model)
    try:
        with torch.no_grad():
            model(x)
    finally:
        rec.remove()
    mods = dict(model.named_modules())
    ties = {}
    for n in rec.names:
        ins = rec.inputs[n]
        if not ins:
            continue
        m = mods[n]
        if isinstance(m, Leaky):
            v = m.charged_membrane_seq(torch.stack(ins))
            thr = float(m.threshold)
        else:
            v = m.charged_membrane_seq(ins[0])
            thr = m.v_threshold
        ties[n] = int((v == thr).sum())
    return ties


def calibrate_firing_rates(model: nn.Module, x: torch.Tensor, target: float = 0.05,
                           iters: int = 8, log: Callable = print) -> Dict[str, float]:
    """Recalibrates every BatchNorm on ``x`` (train-mode batch statistics, then
    eval with those running stats) and shifts each BN bias so that the LIF it
    feeds fires at about ``target`` (Gaussian approximation, a few rounds)."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for bn in bns:
            bn.reset_running_stats()
            bn.momentum = None
            bn.weight.fill_(1.0)
            bn.bias.zero_()
        model.train()
        model(x)
        model.eval()
        for bn in bns:
            bn.momentum = 0.1
    pairs = _bn_to_lif_pairs(model, x)
    targets = {lif: target for _, lif in pairs}
    z = lambda p: float(torch.special.ndtri(torch.tensor(1.0 - p)))  # noqa: E731
    for it in range(iters):
        rates = firing_rate_table(model, x)
        log(f"  calibration round {it}: mean LIF rate {sum(rates.values()) / len(rates):.4f}, "
            f"min {min(rates.values()):.4f}, max {max(rates.values()):.4f}")
        # Spikformer attn_lif has no BN in front: steer it through q/k/v targets
        for name, r in rates.items():
            if name.endswith(".attn_lif") and not 0.025 <= r <= 0.09:
                parent = name[: -len("attn_lif")]
                for s in ("q_lif", "k_lif", "v_lif"):
                    if parent + s in targets:
                        t = targets[parent + s] * (target / max(r, 1e-4)) ** (1 / 3)
                        targets[parent + s] = min(max(t, 0.025), 0.095)
        with torch.no_grad():
            for bn, lif in pairs:
                r = min(max(rates[lif], 1e-4), 0.5)
                bn.bias.add_(0.5 * (z(r) - z(targets[lif])))
    return firing_rate_table(model, x)


def generate_random_model(model: nn.Module, out_path: str, input_shape: Sequence[int],
                          target_rate: float, n_calib: int, seed: int, script: bool = False):
    """Shared driver of the gen_*.py benchmark generators: BN/firing-rate
    calibration on smooth noise, trace (or script), save, reload, verify."""
    t0 = time.time()
    c, h = input_shape[1], input_shape[2]
    calib = smooth_noise(n_calib, c, h, seed=seed + 1)
    print(f"parameters: {count_params(model)}")
    rates = calibrate_firing_rates(model, calib, target=target_rate)
    example = smooth_noise(input_shape[0], c, h, seed=seed + 2)
    neurons = count_neurons(model, example)
    total = sum(neurons.values())
    weighted = sum(rates[n] * neurons[n] for n in neurons) / total
    print(f"neurons (per time step, batch 1): {total}")
    print("LIF firing rates on the calibration noise:")
    for n, r in rates.items():
        print(f"  {n:32s} {100 * r:6.2f} %  ({neurons[n]} neurons)")
    print(f"neuron-weighted mean firing rate: {100 * weighted:.2f} %; "
          f"layers in [2,10] %: {sum(0.02 <= r <= 0.10 for r in rates.values())}/{len(rates)}")
    model.eval()
    with torch.no_grad():
        exported = torch.jit.script(model) if script else torch.jit.trace(model, example, check_trace=False)
        exported.save(out_path)
        loaded = torch.jit.load(out_path)
        want = model(example)
        got = loaded(example)
    diff = float((got - want).abs().max())
    assert torch.equal(got, want), f"reloaded model differs from eager: {diff}"
    print(f"wrote {out_path}: {os.path.getsize(out_path)} bytes, reload OK "
          f"(max |diff| {diff}); {time.time() - t0:.0f}s")
