#!/usr/bin/python3
"""Writes the NIR test files in tests/fixtures/nir/ with plain h5py, laid out
exactly as NIR 1.0.7's nir/serialization.py `write` lays them out
(github.com/neuromorphs/NIR at 7232ada): /version and /node as vlen UTF-8
strings and groups, numpy arrays with gzip, Python ints as int64 scalars,
edges as an N x 2 vlen string table. The `nir` package itself is not needed.

Valid files are graphs from the spec's examples (primitives.md, tests/);
bad_*.nir are malformed on purpose. Run: /usr/bin/python3 tools/nir/write_spec_examples.py
(needs python3-h5py and python3-numpy from apt).
"""
import os
import pathlib

import h5py
import numpy as np

OUT = pathlib.Path(os.environ.get("STC_NIR_OUT", pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "nir"))
STR = h5py.string_dtype()


def write_fields(group, node):
    # serialization.write_recursive
    for k, v in node.items():
        if k == "metadata":
            if v:
                write_fields(group.create_group(k), v)
        elif isinstance(v, str):
            group.create_dataset(k, data=v, dtype=STR)
        elif isinstance(v, np.ndarray):
            group.create_dataset(k, data=v, dtype=v.dtype, compression="gzip")
        elif isinstance(v, dict):
            write_fields(group.create_group(str(k)), v)
        else:
            group.create_dataset(k, data=v)


def write(name, nodes, edges, metadata=None, version="1.0.7"):
    with h5py.File(OUT / name, "w") as f:
        if version is not None:
            f.create_dataset("version", data=version, dtype=STR)
        graph = {"type": "NIRGraph", "nodes": nodes, "edges": edges, "metadata": metadata or {}}
        write_fields(f.create_group("node"), graph)


def f32(*a):
    return np.array(a, dtype=np.float32)


def lif(n, tau, r, v_leak, v_threshold, v_reset=0.0):
    full = lambda x: np.full(n, x, dtype=np.float32)
    return {"type": "LIF", "tau": full(tau), "r": full(r), "v_leak": full(v_leak),
            "v_threshold": full(v_threshold), "v_reset": full(v_reset)}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    # Affine -> LIF (snnTorch-style: r = tau / dt, dt = 1e-4 -> beta = 0.9) -> Output.
    write("spec_affine_lif.nir", {
        "input": {"type": "Input", "shape": np.array([2])},
        "affine": {"type": "Affine", "weight": f32([1.0, 0.5], [-0.25, 2.0], [0.75, 0.75]), "bias": f32(0.1, 0.0, -0.2)},
        "lif": lif(3, 1e-3, 10.0, 0.0, 1.0),
        "output": {"type": "Output", "shape": np.array([3])},
    }, [("input", "affine"), ("affine", "lif"), ("lif", "output")])

    # Conv2d -> IF -> SumPool2d -> Flatten -> Linear -> LI -> Output (the nir tests' shapes).
    rng = np.random.default_rng(7)
    write("spec_conv.nir", {
        "input": {"type": "Input", "shape": np.array([1, 6, 6])},
        "conv": {"type": "Conv2d", "input_shape": np.array([6, 6]),
                 "weight": rng.uniform(-1, 1, (2, 1, 3, 3)).astype(np.float32), "stride": np.array([1, 1]),
                 "padding": np.array([1, 1]), "dilation": np.array([1, 1]), "groups": 1, "bias": f32(0.5, -0.5)},
        "if": {"type": "IF", "r": np.full((2, 6, 6), 1e4, dtype=np.float32),
               "v_threshold": np.full((2, 6, 6), 1.0, dtype=np.float32),
               "v_reset": np.zeros((2, 6, 6), dtype=np.float32)},
        "pool": {"type": "SumPool2d", "kernel_size": np.array([2, 2]), "stride": np.array([2, 2]),
                 "padding": np.array([0, 0])},
        "flat": {"type": "Flatten", "start_dim": 0, "end_dim": 2, "input_type": np.array([2, 3, 3])},
        "fc": {"type": "Linear", "weight": rng.uniform(-1, 1, (4, 18)).astype(np.float32)},
        "li": {"type": "LI", "tau": np.full(4, 2e-4, dtype=np.float32), "r": np.full(4, 2.0, dtype=np.float32),
               "v_leak": np.zeros(4, dtype=np.float32)},
        "output": {"type": "Output", "shape": np.array([4])},
    }, [("input", "conv"), ("conv", "if"), ("if", "pool"), ("pool", "flat"), ("flat", "fc"), ("fc", "li"),
        ("li", "output")])

    # Two Affine branches into one LIF (summed), Scale, Threshold, Conv1d with padding "same".
    write("spec_branches.nir", {
        "in": {"type": "Input", "shape": np.array([2, 5])},
        "c1": {"type": "Conv1d", "input_shape": 5, "weight": f32([[1, 0, -1], [0.5, 0.5, 0.5]]),
               "stride": 1, "padding": "same", "dilation": 1, "groups": 1, "bias": f32(0.25)},
        "flat": {"type": "Flatten", "start_dim": 0, "end_dim": 1, "input_type": np.array([1, 5])},
        "a": {"type": "Affine", "weight": np.eye(5, dtype=np.float32), "bias": np.zeros(5, dtype=np.float32)},
        "b": {"type": "Linear", "weight": np.full((5, 5), 0.1, dtype=np.float32)},
        "scale": {"type": "Scale", "scale": f32(2.0, 2.0, 2.0, 2.0, 2.0)},
        "thr": {"type": "Threshold", "threshold": np.full(5, 0.5, dtype=np.float32)},
        "out": {"type": "Output", "shape": np.array([5])},
    }, [("in", "c1"), ("c1", "flat"), ("flat", "a"), ("flat", "b"), ("a", "scale"), ("b", "scale"),
        ("scale", "thr"), ("thr", "out")], metadata={"note": "hand-written from the NIR spec"})

    # snnTorch's Synaptic as its export_nir.py writes it (dt = 1e-4): tau_syn = dt / (1 - alpha),
    # tau_mem = dt / (1 - beta), r = tau_mem / dt, w_in = tau_syn / dt, v_leak = 0, no v_reset;
    # then an Affine into a CubaLI readout (Norse's form: r = 1, w_in = 1).
    dt, alpha, beta = 1e-4, 0.8, 0.9
    full = lambda n, x: np.full(n, x, dtype=np.float64)
    synaptic = {"type": "CubaLIF", "tau_syn": full(3, dt / (1 - alpha)), "tau_mem": full(3, dt / (1 - beta)),
                "r": full(3, 1 / (1 - beta)), "v_leak": full(3, 0.0), "v_threshold": full(3, 1.0),
                "w_in": full(3, 1 / (1 - alpha))}
    readout = {"type": "CubaLI", "tau_syn": full(2, 5e-4), "tau_mem": full(2, 2e-4), "r": full(2, 1.0),
               "v_leak": full(2, 0.0), "w_in": full(2, 1.0)}
    cuba_nodes = {
        "input": {"type": "Input", "shape": np.array([2])},
        "fc1": {"type": "Affine", "weight": f32([0.3, 0.1], [-0.2, 0.4], [0.25, 0.25]), "bias": f32(0.05, 0.1, -0.02)},
        "lif1": synaptic,
        "fc2": {"type": "Linear", "weight": f32([1.0, -0.5, 0.5], [0.2, 0.7, -0.3])},
        "li": readout,
        "output": {"type": "Output", "shape": np.array([2])},
    }
    cuba_edges = [("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "li"), ("li", "output")]
    write("spec_cubalif.nir", cuba_nodes, cuba_edges, version="1.0.7")

    # The same network with fc1 -> lif1 inside a nested NIRGraph (edges name the graph itself) and
    # the readout inside another one reached by dotted names ("readout.in", "readout.out").
    block = {"type": "NIRGraph", "nodes": {"input": {"type": "Input", "shape": np.array([2])},
                                          "fc1": cuba_nodes["fc1"], "lif1": synaptic,
                                          "output": {"type": "Output", "shape": np.array([3])}},
             "edges": [("input", "fc1"), ("fc1", "lif1"), ("lif1", "output")]}
    ro = {"type": "NIRGraph", "nodes": {"in": {"type": "Input", "shape": np.array([2])}, "li": readout,
                                       "out": {"type": "Output", "shape": np.array([2])}},
          "edges": [("in", "li"), ("li", "out")]}
    write("spec_nested.nir", {"input": cuba_nodes["input"], "block": block, "fc2": cuba_nodes["fc2"], "readout": ro,
                              "output": cuba_nodes["output"]},
          [("input", "block"), ("block", "fc2"), ("fc2", "readout.in"), ("readout.out", "output")])

    # snnTorch's RSynaptic: a nested graph whose CubaLIF feeds back through a Linear (recurrent).
    rec = {"type": "NIRGraph", "nodes": {"input": {"type": "Input", "shape": np.array([3])}, "lif": synaptic,
                                        "w_rec": {"type": "Linear", "weight": np.eye(3, dtype=np.float32) * 0.5},
                                        "output": {"type": "Output", "shape": np.array([3])}},
           "edges": [("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")]}
    write("spec_recurrent.nir", {"input": cuba_nodes["input"], "fc1": cuba_nodes["fc1"], "rsyn": rec,
                                 "output": {"type": "Output", "shape": np.array([3])}},
          [("input", "fc1"), ("fc1", "rsyn"), ("rsyn", "output")])
    # Delay nodes (delay in seconds, one per element): 2 steps of dt = 1e-4 into a LIF; then
    # malformed ones: 1.5 steps, and delays that differ between elements.
    delay_nodes = lambda d: {"input": {"type": "Input", "shape": np.array([2])},
                             "affine": {"type": "Affine", "weight": f32([1.0, 0.5], [-0.25, 2.0], [0.75, 0.75]),
                                        "bias": f32(0.1, 0.0, -0.2)},
                             "delay": {"type": "Delay", "delay": np.array(d, dtype=np.float64)},
                             "lif": lif(3, 1e-3, 10.0, 0.0, 1.0),
                             "output": {"type": "Output", "shape": np.array([3])}}
    delay_edges = [("input", "affine"), ("affine", "delay"), ("delay", "lif"), ("lif", "output")]
    write("spec_delay.nir", delay_nodes([2e-4, 2e-4, 2e-4]), delay_edges)
    write("bad_delay_fraction.nir", delay_nodes([1.5e-4, 1.5e-4, 1.5e-4]), delay_edges)
    write("bad_delay_per_neuron.nir", delay_nodes([1e-4, 2e-4, 1e-4]), delay_edges)
    bad = dict(block, edges=[("input", "fc1"), ("fc1", "lif"), ("lif1", "output")])
    write("bad_nested_edge.nir", {"input": cuba_nodes["input"], "block": bad,
                                  "output": {"type": "Output", "shape": np.array([3])}},
          [("input", "block"), ("block", "output")])
    wrong = dict(block, nodes=dict(block["nodes"], input={"type": "Input", "shape": np.array([5])}))
    write("bad_nested_shape.nir", {"input": cuba_nodes["input"], "block": wrong,
                                   "output": {"type": "Output", "shape": np.array([3])}},
          [("input", "block"), ("block", "output")])
    n = dict(cuba_nodes, lif1=dict(synaptic, tau_syn=np.array([2e-4, 3e-4, 4e-4])))
    write("bad_per_neuron_cuba.nir", n, cuba_edges)

    ok_nodes = lambda: {
        "input": {"type": "Input", "shape": np.array([2])},
        "affine": {"type": "Affine", "weight": f32([1.0, 0.5], [-0.25, 2.0]), "bias": f32(0.1, 0.0)},
        "output": {"type": "Output", "shape": np.array([2])},
    }
    ok_edges = [("input", "affine"), ("affine", "output")]
    n = ok_nodes(); del n["affine"]["type"]
    write("bad_missing_type.nir", n, ok_edges)
    write("bad_edge.nir", ok_nodes(), ok_edges + [("affine", "nowhere")])
    # A cycle whose only input is its own recurrent edge: its shape is unknown.
    write("bad_cycle.nir", ok_nodes(), [("input", "output"), ("affine", "affine"), ("affine", "output")])
    n = ok_nodes(); n["affine"]["weight"] = f32(1.0, 2.0)
    write("bad_weight_rank.nir", n, ok_edges)
    n = ok_nodes(); n["affine"]["type"] = "Quantum"
    write("bad_unknown_type.nir", n, ok_edges)
    n = ok_nodes(); n["input"]["shape"] = np.array([1 << 40])
    write("bad_huge_shape.nir", n, ok_edges)
    n = ok_nodes(); n["affine"]["weight"] = f32([1.0, 0.5, 3.0], [-0.25, 2.0, 1.0])
    write("bad_shape_mismatch.nir", n, ok_edges)
    n = ok_nodes(); n["lif"] = lif(2, 1e-3, 10.0, 0.0, 1.0); n["lif"]["tau"] = f32(1e-3, 2e-3)
    write("bad_per_neuron.nir", n, [("input", "affine"), ("affine", "lif"), ("lif", "output")])
    n = ok_nodes(); n["affine"]["bias"] = np.array([(1, 2.0), (3, 4.0)], dtype=[("a", "i4"), ("b", "f8")])
    write("bad_compound.nir", n, ok_edges)
    # Numeric edges are read only as NIR 0.1's integer node indices (what Lava-DL's nir_lava.py wrote).
    n = ok_nodes(); n = {"0": n["input"], "1": n["affine"], "2": n["output"]}
    write("bad_float_edges.nir", n, np.array([[0.0, 1.0], [1.0, 2.5]]))
    # No Output node, and every node has an out-edge (a self-loop): no output to take.
    n = ok_nodes(); del n["output"]
    write("bad_no_output.nir", n, [("input", "affine"), ("affine", "affine")])
    with h5py.File(OUT / "bad_no_graph.nir", "w") as f:
        f.create_dataset("version", data="1.0.7", dtype=STR)
    (OUT / "bad_not_hdf5.nir").write_text("this is not an HDF5 file\n")
    good = (OUT / "spec_affine_lif.nir").read_bytes()
    (OUT / "bad_truncated.nir").write_bytes(good[: len(good) // 2])


if __name__ == "__main__":
    main()
