// Spike IR -> lava-dl netx network description (the HDF5 file that
// lava.lib.dl.netx.hdf5.Network reads): the subset netx can run, see
// docs/netx.md for the mapping, every field's upstream source and what is
// refused. Upstream: github.com/lava-nc/lava-dl at d825ac5 (2026-05-13).
#pragma once

#include "interop/hdf5_tree.h"
#include "ir/module.h"
#include "util/diagnostics.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stc::interop {

// netx's CUBA neuron (slayer neuron/cuba.py:262-272 device_params):
//   u[t] = u[t-1] (4096 - iDecay) / 4096 + x[t]
//   v[t] = v[t-1] (4096 - vDecay) / 4096 + u[t] + bias,  spike if v > vThMant, then v = 0
struct NetxNeuron {
    int64_t iDecay = 4096; // 4096: the current does not persist (u[t] = x[t])
    int64_t vDecay = 0;
    int64_t vThMant = 0;
    int64_t refDelay = 1;
    bool gradedSpike = false;
    // stc's reading of it: "spikes", "membrane" (a readout that never spikes)
    // or "identity" (v[t] = the synapse's output, for a weight layer feeding the output).
    std::string role = "spikes";
};

struct NetxLayer {
    std::string type; // "input", "flatten", "dense", "conv"
    ir::Shape shape;  // netx "shape": [C, H, W] (conv, input), [N] (dense, rank-1 input), [C*H*W, 1, 1] (flatten)
    ir::Shape weightShape; // dense [out, in], conv [out, in/groups, kh, kw]
    std::vector<double> weight; // integers (what netx reads with astype(int))
    std::vector<double> bias;   // integers, empty = none
    ir::IntList kernel, stride, padding, dilation; // conv, [h, w]
    int64_t groups = 1;
    std::optional<NetxNeuron> neuron;
    double scale = 0;  // file weight = round(scale * gain * our weight); 0 = no weights (input, flatten)
    double vScale = 0; // file v, bias and vThMant = our v, bias, threshold times this (scale, and 2^inputExp
                       // for a layer reading the input port)
    double weightRoundingError = 0; // max |file weight - scale * our weight| (<= 0.5)
    std::string source; // the Spike IR value(s) it comes from, e.g. "%fc1 + %lif1"
};

// An average pool folded into the synapse after it (kernel = stride).
struct NetxPool {
    ir::IntList kernel; // empty = none
    ir::Shape unpooled; // [C, H, W] before pooling
    ir::Shape pooled;   // [C, H/kh, W/kw]
};

struct NetxNetwork {
    std::vector<NetxLayer> layers;
    int64_t timesteps = 1;
    int64_t inputExp = 6; // graded input spikes carry round(x * 2^inputExp)
    std::string readout;  // how our output is read from the last layer
    std::string module;
};

struct NetxExportResult {
    std::optional<NetxNetwork> network; // set when there are no errors
    // One error per op netx cannot express (located, listing all of them);
    // warnings for every parameter that is approximated.
    Diagnostics diagnostics;
};

NetxExportResult exportToNetx(const ir::Module& m);

// The HDF5 layout netx reads: /layer/0..N-1 plus our /stc group (ignored by netx).
H5Group netxToHdf5(const NetxNetwork& n);

} // namespace stc::interop
