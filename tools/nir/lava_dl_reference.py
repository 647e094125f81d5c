#!/usr/bin/python3
"""Expected outputs of the NIR file Lava-DL wrote (tests/fixtures/nir/lava_dl_trained_mnist.nir,
tools/nir/lava_dl_to_nir.py) under two semantics, computed with numpy independently of stc:

1. "nir": what the file defines: NIR's CubaLIF (nir/ir/neuron.py)
       tau_syn dI/dt = -I + w_in S,   tau_mem dv/dt = (v_leak - v) + r I,
       spike when v > v_threshold, then v = v_reset
   stepped by forward Euler at dt = 1/4096 s, the current first (stc's order, docs/nir.md
   "Synaptic current"), in float64, from the file's own parameters (w_in and v_reset
   absent: NIR's defaults 1 and 0). dt = 1/4096 s is the one step at which the file's
   decays equal Lava-DL's: convert_to_nir writes tau = 1/decay with decay in 1/4096 per
   step (iDecay, vDecay), so dt/tau = decay/4096 exactly.
   core_test_nir_files compares `stc import-nir --dt 0.000244140625` + the f32
   interpreter with these spike for spike.

2. "netx": the network Lava-DL exported, read from tests/fixtures/netx/lava_dl_trained_mnist.net
   itself: lava-dl's CUBA neuron with 12-bit fixed-point decays (slayer
   neuron/dynamics/leaky_integrator.py `_li_dynamics_fwd`: `right_shift_to_zero(x *
   (4096 - decay), 12)`; Lava's bit-accurate LIF, which netx instantiates with du =
   iDecay - 1, dv = vDecay, decays u by 4096 - (du + 1) and v by 4096 - dv the same way):
       u = trunc(u (4096 - iDecay) / 4096) + W s
       v = trunc(v (4096 - vDecay) / 4096) + u
       spike when v > vThMant, then v = 0
   in integers, in Lava's units (weights and vThMant shifted left by 6 bits), v clipped to
   Lava's 24 bits as its LIF does (u is checked not to wrap). Without netx's one-step delay
   per layer (Lava's Dense).
   This is only the yardstick for what the NIR file loses (docs/nir.md, "NIR written by
   Lava-DL").

Inputs: binary spike vectors (the MNIST tutorial feeds rate-encoded binary spikes), held
for all T = 32 steps (the tutorial's n_tsteps; Spike IR's direct encoding repeats the
input at every step).
Run: /usr/bin/python3 tools/nir/lava_dl_reference.py  (python3-h5py, python3-numpy)
"""
import json
import pathlib

import h5py
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
DT = 1.0 / 4096
STEPS = 32


def nir_layers(f):
    """(weight, CubaLIF parameters) per layer, following the file's edge chain from its Input."""
    nodes, edges = f["node/nodes"], f["node/edges"][()]
    succ = {int(a): int(b) for a, b in edges}
    n = next(int(k) for k in nodes if nodes[k]["type"][()] == b"Input")
    layers = []
    while n in succ:
        lin, neuron = nodes[str(succ[n])], nodes[str(succ[succ[n]])]
        assert lin["type"][()] == b"Linear" and neuron["type"][()] == b"CubaLIF"
        get = lambda key, default: float(neuron[key][()]) if key in neuron else default
        layers.append((lin["weight"][()].astype(np.float64),
                       {k: get(k, d) for k, d in (("tau_syn", None), ("tau_mem", None), ("r", None), ("v_leak", None),
                                                  ("v_threshold", None), ("w_in", 1.0), ("v_reset", 0.0))}))
        n = succ[succ[n]]
    return layers


def run_nir(layers, x):
    state = [(np.zeros(w.shape[0]), np.zeros(w.shape[0])) for w, _ in layers]
    out, counts = [], []
    for _ in range(STEPS):
        s, per_layer = x.astype(np.float64), []
        for k, (w, p) in enumerate(layers):
            i, v = state[k]
            i = i + DT / p["tau_syn"] * (-i + p["w_in"] * (w @ s))
            v = v + DT / p["tau_mem"] * (p["v_leak"] - v + p["r"] * i)
            s = (v > p["v_threshold"]).astype(np.float64)
            v = np.where(s > 0, p["v_reset"], v)
            state[k] = (i, v)
            per_layer.append(int(s.sum()))
        out.append(s.astype(int).tolist())
        counts.append(per_layer)
    return out, counts


def netx_layers(f):
    layers = []
    for key in sorted(f["layer"], key=int):
        g = f["layer"][key]
        assert g["type"][0] == b"dense" and g["neuron/type"][()] == b"CUBA"
        w = g["weight"][()]
        assert np.array_equal(w, np.round(w)) and "bias" not in g
        layers.append((w.astype(np.int64), int(g["neuron/iDecay"][()]), int(g["neuron/vDecay"][()]),
                       int(g["neuron/vThMant"][()])))
    return layers


def trunc_decay(x, decay):
    y = x * (4096 - decay)
    return np.sign(y) * (np.abs(y) >> 12)


UV_MAX = 2 ** 23 - 1  # Lava's 24-bit u and v


def run_netx(layers, x):
    """In Lava's units (weights and threshold shifted left by 6 bits): u must not wrap around
    24 bits (checked), v saturates at +-(2^23 - 1) as Lava's LIF clips it."""
    state = [(np.zeros(w.shape[0], np.int64), np.zeros(w.shape[0], np.int64)) for w, *_ in layers]
    out, counts = [], []
    for _ in range(STEPS):
        s, per_layer = x.astype(np.int64), []
        for k, (w, i_decay, v_decay, vth) in enumerate(layers):
            u, v = state[k]
            u = trunc_decay(u, i_decay) + ((w @ s) << 6)
            assert np.abs(u).max() <= UV_MAX, "u would wrap around in Lava's 24 bits: choose a weaker input"
            v = np.clip(trunc_decay(v, v_decay) + u, -UV_MAX, UV_MAX)
            s = (v > (vth << 6)).astype(np.int64)
            v = np.where(s > 0, 0, v)
            state[k] = (u, v)
            per_layer.append(int(s.sum()))
        out.append(s.tolist())
        counts.append(per_layer)
    return out, counts


def with_netx_gains(layers):
    """The file's CubaLIFs with the input gains that make Euler's step Lava-DL's at dt:
    w_in = tau_syn/dt and r = tau_mem/dt (snnTorch's export convention), in place of the
    written r = 1 and the w_in = tau_syn that NIR 0.1's writer dropped."""
    return [(w, dict(p, r=p["tau_mem"] / DT, w_in=p["tau_syn"] / DT)) for w, p in layers]


def compare(a, b):
    a, b = np.array(a), np.array(b)
    return int((a == b).sum()), int(a.size)


def reference(name, nir_inputs, netx_densities, seed):
    """Writes tests/data/nir/<name>_expected.json for fixtures nir/<name>.nir and netx/<name>.net."""
    rng = np.random.default_rng(seed)
    with h5py.File(FIXTURES / "nir" / f"{name}.nir", "r") as f:
        nl = nir_layers(f)
    with h5py.File(FIXTURES / "netx" / f"{name}.net", "r") as f:
        xl = netx_layers(f)
    n_in = nl[0][0].shape[1]
    # 1. NIR semantics (stc is compared with these spike for spike). The NIR input is a real-valued
    #    stream: binary patterns (density p), some scaled by k so that the deeper layers fire too.
    cases = []
    for p, k in nir_inputs:
        x = (rng.random(n_in) < p).astype(np.int64) * k
        out, counts = run_nir(nl, x)
        cases.append({"input": x.tolist(), "output_spikes": out, "layer_spike_counts": counts})
    # 2. What the file loses: binary inputs, a fraction p of the inputs spiking at every step.
    netx_cases, summary = [], {"nir_vs_netx": [0, 0], "gains_vs_netx": [0, 0], "spikes_nir": [0] * len(nl),
                               "spikes_gains": [0] * len(nl), "spikes_netx": [0] * len(nl), "argmax_equal_gains": 0}
    for p in netx_densities:
        x = (rng.random(n_in) < p).astype(np.int64)
        netx_out, netx_counts = run_netx(xl, x)
        nir_out, nir_counts = run_nir(nl, x)
        gains_out, gains_counts = run_nir(with_netx_gains(nl), x)
        for key, out in (("nir_vs_netx", nir_out), ("gains_vs_netx", gains_out)):
            summary[key] = [u + v for u, v in zip(summary[key], compare(out, netx_out))]
        for key, counts in (("spikes_nir", nir_counts), ("spikes_gains", gains_counts), ("spikes_netx", netx_counts)):
            summary[key] = [u + int(v) for u, v in zip(summary[key], np.array(counts).sum(0))]
        summary["argmax_equal_gains"] += int(np.array(gains_out).sum(0).argmax() == np.array(netx_out).sum(0).argmax())
        netx_cases.append({"input": x.tolist(), "output_spikes": netx_out, "layer_spike_counts": netx_counts})
    out = ROOT / "tests" / "data" / "nir" / f"{name}_expected.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"file": f"{name}.nir", "dt": DT, "timesteps": STEPS,
                               "semantics": "cases: NIR CubaLIF, forward Euler at dt = 1/4096 s, current first; "
                                            "netx_cases: lava-dl's fixed-point CUBA on the .net file "
                                            "(tools/nir/lava_dl_reference.py)",
                               "summary": summary, "cases": cases, "netx_cases": netx_cases}) + "\n")
    print(f"wrote {out}: {len(cases)} + {len(netx_cases)} inputs x {STEPS} steps")
    for c in cases:
        print("  nir spikes per layer", np.array(c["layer_spike_counts"]).sum(0).tolist())
    print("  output neuron-steps equal to netx [equal, all]:", {k: summary[k] for k in ("nir_vs_netx", "gains_vs_netx")})
    print("  spikes per layer:", {k: summary[k] for k in ("spikes_nir", "spikes_gains", "spikes_netx")},
          "most-spiking output equal (gains):", summary["argmax_equal_gains"], "of", len(netx_cases))


def main():
    # MNIST: an MNIST digit lights ~19 % of its pixels, but rate-encoded, not all at every step;
    # held binary inputs denser than ~10 % make u wrap around in Lava's 24 bits.
    reference("lava_dl_trained_mnist",
              ((0.05, 1), (0.1, 1), (0.2, 1), (0.4, 1), (0.1, 4), (0.2, 8), (0.1, 16), (0.2, 32)),
              (0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.1), seed=11)
    # Oxford: sparse inputs (the tutorial's input is a sparse spike raster); denser ones silence it.
    reference("lava_dl_oxford", ((0.01, 1), (0.02, 1), (0.03, 1), (0.02, 2), (0.03, 4), (0.01, 8), (0.03, 8)),
              (0.01, 0.02, 0.03, 0.05, 0.1, 0.2), seed=13)


if __name__ == "__main__":
    main()
