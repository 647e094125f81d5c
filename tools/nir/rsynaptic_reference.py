#!/usr/bin/python3
"""Expected outputs of the NIR paper's snnTorch Braille RSynaptic network
(tests/fixtures/nir/snntorch_braille_rsynaptic.nir) under snnTorch's own
semantics, computed from the file's weights with numpy (float64), independently
of stc. core_test_nir_files compares `stc import-nir` + the f32 interpreter
with them.

The semantics are those of the snnTorch RSynaptic that snnTorch's NIR export
(snntorch/export_nir.py) writes these parameters from: tau_syn = dt/(1 - alpha),
tau_mem = dt/(1 - beta), r = tau_mem/dt, w_in = tau_syn/dt at dt = 1e-4 s, so
alpha = 1 - dt/tau_syn, beta = 1 - dt/tau_mem, threshold = v_threshold; reset to
zero (NIR's v_reset, absent here, is 0; the NIR paper's snnTorch Braille model uses
reset_mechanism="zero", reset_delay=False). The recurrent Linear (with the
Affine's bias) reads the previous step's spikes (zero at step 0, so the
recurrent input at step 0 is the bias). One step of a layer:

    syn = alpha * syn + x (+ W_rec spk_prev + b_rec)
    mem = beta * mem + syn
    spk = mem > threshold ;  mem = 0 where spk

(snnTorch's import_nir.py reads such a file back with threshold = v_threshold /
w_in, scaling the threshold instead of the input: not the exported model; see
docs/nir.md.)
The input is the same at every step (Spike IR's direct encoding).
Run: /usr/bin/python3 tools/nir/rsynaptic_reference.py  (python3-h5py, python3-numpy)
"""
import json
import pathlib

import h5py
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
FILE = ROOT / "tests" / "fixtures" / "nir" / "snntorch_braille_rsynaptic.nir"
OUT = ROOT / "tests" / "data" / "nir" / "braille_rsynaptic_expected.json"
DT = 1e-4
STEPS = 12


def layer(node):
    uniform = lambda key: float(np.unique(node[key][()])[0])
    for key in ("tau_syn", "tau_mem", "v_threshold", "w_in"):
        assert np.unique(node[key][()]).size == 1, key
    # snnTorch's export convention: the Euler input coefficients dt r / tau_mem and dt w_in / tau_syn are 1.
    assert np.allclose(node["r"][()], node["tau_mem"][()] / DT)
    assert np.allclose(node["w_in"][()], node["tau_syn"][()] / DT)
    return {"alpha": 1 - DT / uniform("tau_syn"), "beta": 1 - DT / uniform("tau_mem"),
            "threshold": uniform("v_threshold")}


def run(nodes, x):
    fc1_w, fc1_b = nodes["fc1"]["weight"][()].astype(np.float64), nodes["fc1"]["bias"][()].astype(np.float64)
    rec_w, rec_b = (nodes["lif1.w_rec"]["weight"][()].astype(np.float64),
                    nodes["lif1.w_rec"]["bias"][()].astype(np.float64))
    fc2_w, fc2_b = nodes["fc2"]["weight"][()].astype(np.float64), nodes["fc2"]["bias"][()].astype(np.float64)
    l1, l2 = layer(nodes["lif1.lif"]), layer(nodes["lif2"])
    syn1 = mem1 = spk1 = np.zeros(fc1_w.shape[0])
    syn2 = mem2 = np.zeros(fc2_w.shape[0])
    out, hidden = [], []
    for _ in range(STEPS):
        syn1 = l1["alpha"] * syn1 + (fc1_w @ x + fc1_b) + (rec_w @ spk1 + rec_b)
        mem1 = l1["beta"] * mem1 + syn1
        spk1 = (mem1 > l1["threshold"]).astype(np.float64)
        mem1 = np.where(spk1 > 0, 0.0, mem1)
        syn2 = l2["alpha"] * syn2 + (fc2_w @ spk1 + fc2_b)
        mem2 = l2["beta"] * mem2 + syn2
        spk2 = (mem2 > l2["threshold"]).astype(np.float64)
        mem2 = np.where(spk2 > 0, 0.0, mem2)
        out.append(spk2.astype(int).tolist())
        hidden.append(int(spk1.sum()))
    return out, hidden


def main():
    rng = np.random.default_rng(7)
    with h5py.File(FILE, "r") as f:
        nodes = f["node/nodes"]
        n_in = int(nodes["input"]["shape"][()][0])
        # A few constant inputs, of magnitudes that make the recurrent layer fire (and so use W_rec).
        inputs = [np.full(n_in, 0.5), np.linspace(-1.0, 1.0, n_in)] + \
                 [np.round(rng.uniform(-s, s, n_in), 3) for s in (1.0, 2.0, 4.0, 4.0)]
        cases = []
        for x in inputs:
            spikes, hidden = run(nodes, x)
            cases.append({"input": [float(v) for v in x], "output_spikes": spikes, "hidden_spike_counts": hidden})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"file": "snntorch_braille_rsynaptic.nir", "dt": DT, "timesteps": STEPS,
                               "semantics": "the snnTorch RSynaptic that snntorch/export_nir.py writes these "
                                            "parameters from (see tools/nir/rsynaptic_reference.py)",
                               "cases": cases}, indent=1) + "\n")
    print(f"wrote {OUT}: {len(cases)} inputs x {STEPS} steps")


if __name__ == "__main__":
    main()
