// The HDF5 layout of a lava-dl netx network description: what slayer's
// export_hdf5 methods write and netx's hdf5.Network reads. Every field cites
// its upstream lines (lava-nc/lava-dl at d825ac5, 2026-05-13):
//   H  = src/lava/lib/dl/netx/hdf5.py         (reader)
//   U  = src/lava/lib/dl/netx/utils.py        (NetDict: how the reader decodes each key)
//   SB = src/lava/lib/dl/slayer/block/base.py  (writer: export_hdf5 of Input/Flatten/Dense/Conv)
//   SC = src/lava/lib/dl/slayer/neuron/cuba.py (writer: the CUBA neuron's device_params)
// The table with the same references is in docs/netx.md.
#include "interop/netx_export.h"

namespace stc::interop {

namespace {

using D = H5Dataset;

// 'type': a (1,) array of 'S10' (SB:153-155, 204-206, 580-582, 737-739);
// NetDict decodes value[0] as ASCII (U:44, 59-66).
D layerType(const std::string& t) { return D::fixedStrings({1}, {t}, 10); }

D floats(const ir::Shape& shape, const std::vector<double>& v) { return D::floats32(shape, v); }

// neuron/<key> from the CUBA neuron's device_params (SC:262-272), each a
// scalar dataset as h5py writes Python/numpy scalars (SB:620-621, 781-782).
// netx reads type, vThMant, iDecay (as du = iDecay - 1) and vDecay (H:140-163).
H5Group neuronGroup(const NetxNeuron& n)
{
    H5Group g;
    g.datasets["type"] = D::varString("CUBA"); // a Python str: variable-length (U:59-66 accepts scalar strings)
    g.datasets["iDecay"] = D::int64(n.iDecay); // SC:230-238 cx_current_decay, 12-bit (p_scale = 1 << 12)
    g.datasets["vDecay"] = D::int64(n.vDecay); // SC:240-248 cx_voltage_decay
    g.datasets["vThMant"] = D::int64(n.vThMant); // slayer neuron/base.py:205-208 v_th_mant = threshold * w_scale
    g.datasets["refDelay"] = D::int64(n.refDelay); // SC:250-254 (always 1)
    g.datasets["gradedSpike"] = D::boolean(n.gradedSpike); // SC:271; a numpy bool: h5py's FALSE/TRUE enum
    return g;
}

} // namespace

H5Group netxToHdf5(const NetxNetwork& net)
{
    H5Group root;
    // netx reads net_config['layer'] and len() of it (H:570-576): only layer groups go there.
    H5Group& layers = root.group("layer");
    std::vector<double> scales, vScales;
    std::vector<std::string> sources;
    for (size_t i = 0; i < net.layers.size(); ++i) {
        const NetxLayer& l = net.layers[i];
        H5Group& g = layers.group(std::to_string(i)); // layer_config[i] opens the group named "i" (U:71-72)
        g.datasets["type"] = layerType(l.type);
        g.datasets["shape"] = D::ints(l.shape); // SB:156, 207, 584, 740: np.array(neuron.shape), int64
        if (l.type == "dense") {
            g.datasets["inFeatures"] = D::int64(l.weightShape[1]);  // SB:585 (not read by netx)
            g.datasets["outFeatures"] = D::int64(l.weightShape[0]); // SB:586 (not read by netx)
            g.datasets["weight"] = floats(l.weightShape, l.weight); // SB:601; H:393-397, read astype(int) (U:50-51, 67-68)
        } else if (l.type == "conv") {
            g.datasets["inChannels"] = D::int64(l.weightShape[1] * l.groups); // SB:741 (not read by netx)
            g.datasets["outChannels"] = D::int64(l.weightShape[0]);          // SB:742 (not read by netx)
            g.datasets["kernelSize"] = D::ints(l.kernel);                    // SB:743 (not read by netx)
            g.datasets["stride"] = D::ints(l.stride);     // SB:744; H:507 (reversed to (x, y))
            g.datasets["padding"] = D::ints(l.padding);   // SB:745; H:508
            g.datasets["dilation"] = D::ints(l.dilation); // SB:746; H:509
            g.datasets["groups"] = D::int64(l.groups);    // SB:747; H:510
            g.datasets["weight"] = floats(l.weightShape, l.weight); // SB:762 [out, in/groups, kh, kw]; H:505-506
        }
        if (!l.bias.empty()) // SB:609-612 / 770-773 (optional; slayer writes it from the neuron norm); H:451-452, 524-525
            g.datasets["bias"] = floats({static_cast<int64_t>(l.bias.size())}, l.bias);
        if (l.neuron) // SB:619-621, 780-782; H:348-361, 501-504
            g.groups.emplace_back("neuron", neuronGroup(*l.neuron));
        scales.push_back(l.scale);
        vScales.push_back(l.vScale);
        sources.push_back(l.source);
    }
    // Ours, outside /layer (netx never opens it): how to read the file back into the model's units.
    H5Group& stc = root.group("stc");
    stc.datasets["module"] = D::varString(net.module);
    stc.datasets["timesteps"] = D::int64(net.timesteps);
    stc.datasets["input_exp"] = D::int64(net.inputExp);
    stc.datasets["readout"] = D::varString(net.readout);
    const ir::Shape n{static_cast<int64_t>(net.layers.size())};
    stc.datasets["weight_scale"] = D{D::Kind::Float64, n, scales, {}, 0};
    stc.datasets["v_scale"] = D{D::Kind::Float64, n, vScales, {}, 0};
    stc.datasets["source"] = D{D::Kind::VarString, n, {}, sources, 0};
    return root;
}

} // namespace stc::interop
