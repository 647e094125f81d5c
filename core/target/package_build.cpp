// buildPackage: fixed-point parameters per population and the per-core
// synapse tables, routing tables and biases.
#include "target/package.h"

#include "fixedpoint/arith.h"
#include "target/slice_analysis.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>
#include <stdexcept>

#ifndef STC_VERSION
#define STC_VERSION "0"
#endif

namespace stc::target {

namespace {

class BitWriter {
public:
    explicit BitWriter(std::vector<uint8_t>& out) : out_(out) {}
    void put(uint64_t value, int bits)
    {
        if (used_ == 0 && bits % 8 == 0) { // byte-aligned fast path (8-bit weights)
            for (int b = 0; b < bits; b += 8)
                out_.push_back(uint8_t(value >> b));
            return;
        }
        for (int b = 0; b < bits; ++b) {
            if (used_ == 0)
                out_.push_back(0);
            if ((value >> b) & 1u)
                out_.back() |= uint8_t(1u << used_);
            used_ = (used_ + 1) % 8;
        }
    }
    void u16(uint32_t v)
    {
        flush();
        out_.push_back(uint8_t(v & 0xff));
        out_.push_back(uint8_t(v >> 8));
    }
    void flush() { used_ = 0; }

private:
    std::vector<uint8_t>& out_;
    int used_ = 0;
};

// Diag conv_shared kernels are stored per destination slice feature; a view
// between the op and the population can make that differ from the op's
// output feature. Returns, per slice feature, the op output feature whose
// kernel row it uses, and refuses features fed by op features with
// different rows.
std::vector<int64_t> diagOpFeatures(const Projection& pr, const Population& dp, const Slice& sl)
{
    int64_t innerOut = 1;
    for (size_t a = size_t(pr.featureAxis) + 1; a < pr.outShape.size(); ++a)
        innerOut *= pr.outShape[a];
    const int64_t taps = pr.taps();
    std::vector<int64_t> op(size_t(sl.features()), -1);
    for (int64_t l = 0; l < sl.neurons(); ++l) {
        const int64_t n = sl.neuronAt(dp, l);
        const int32_t e = size_t(n) < pr.dstToOutElement.size() ? pr.dstToOutElement[size_t(n)] : -1;
        if (e < 0)
            continue;
        const int64_t o = (e / innerOut) % pr.outFeatures;
        int64_t& slot = op[size_t(l % sl.features())];
        if (slot < 0) {
            slot = o;
            continue;
        }
        for (int64_t t = 0; t < taps && slot != o; ++t)
            if (pr.weight(slot, 0, t) != pr.weight(o, 0, t))
                throw std::runtime_error(pr.name + ": feature " + std::to_string(sl.f0 + l % sl.features()) + " of %" +
                                         dp.name + " mixes op features with different weights; shared kernels "
                                         "cannot encode it");
    }
    for (auto& o : op)
        o = std::max<int64_t>(0, o);
    return op;
}

uint16_t checked16(int64_t v, const char* what)
{
    if (v < 0 || v > 0xffff)
        throw std::runtime_error(std::string(what) + " " + std::to_string(v) + " does not fit the 16-bit field");
    return uint16_t(v);
}

void fixedPoint(const Population& p, PackagePopulation& q, int weightBits, double maxInput)
{
    const double qmax = double((int64_t{1} << (weightBits - 1)) - 1);
    q.unit = maxInput > 0 ? maxInput / qmax : 1.0;
    const NeuronParams& n = p.neuron;
    q.reset = n.reset;
    q.fireOnEqual = n.fire != "gt";
    q.du = fixedpoint::kDecayOne;
    q.actShift = 0;
    if (p.kind == PopulationKind::Lif) {
        q.actShift = fixedpoint::kDefaultActShift;
        double scale = 1.0; // real threshold in units of the input current
        if (n.model == "lif") {
            q.dv = int32_t(std::lround(double(fixedpoint::kDecayOne) / n.tau));
            scale = n.decayInput ? n.tau : 1.0; // decay_input: v += (x - v) / tau
        } else if (n.model == "leaky") {
            q.dv = int32_t(std::lround(double(fixedpoint::kDecayOne) * (1.0 - n.beta)));
        }
        q.theta = int64_t(std::llround(n.vThreshold * scale / q.unit)) << q.actShift;
    } else if (p.kind == PopulationKind::Relay && p.spikeBits == 1) {
        q.theta = std::max<int64_t>(1, std::llround(n.vThreshold / q.unit)); // OR: fires on any input
    }
}

// Parameters of a population of a quantized module: the pass's own values.
void integerParams(const Population& p, PackagePopulation& q)
{
    q.unit = p.fx.inputUnit;
    q.valueScale = p.fx.valueScale;
    q.outputScale = p.outputScale;
    q.du = fixedpoint::kDecayOne;
    q.reset = p.neuron.reset;
    if (p.kind == PopulationKind::Lif) {
        const fixedpoint::NeuronParams& n = p.fx.neuron;
        q.du = n.du;
        q.dv = n.dv;
        q.actShift = n.actShift;
        q.theta = n.theta;
        q.fireOnEqual = n.fireOnEqual;
        q.reset = n.reset == fixedpoint::Reset::Hard ? "hard" : n.reset == fixedpoint::Reset::Subtract ? "subtract" : "none";
    } else if (p.kind == PopulationKind::Relay && p.spikeBits == 1) {
        q.theta = 1; // OR of binary spikes: fires on any input
    }
    if (p.kind == PopulationKind::Input) {
        q.inputScale = p.fx.inputScale;
        q.inputLo = p.fx.inputLo;
        q.inputHi = p.fx.inputHi;
    }
}

// The exponent e of one target's integer weights: the smallest e >= 0 with
// every weight = m << e and |m| <= qmax. For a layer of the quantize pass
// this is its per-channel shift (the channel's largest mantissa is >= qmax/2).
int targetExponent(const std::vector<std::pair<int64_t, float>>& syn, int64_t qmax, const std::string& what)
{
    double mx = 0;
    for (const auto& s : syn)
        mx = std::max(mx, std::fabs(double(s.second)));
    int e = 0;
    while (mx > std::ldexp(double(qmax), e))
        ++e;
    for (const auto& s : syn) {
        const double m = std::ldexp(double(s.second), -e);
        if (m != std::trunc(m))
            throw std::runtime_error(what + ": weight " + std::to_string(s.second) +
                                     " is not a " + std::to_string(qmax) + "-bounded mantissa times 2^" +
                                     std::to_string(e) + " (quantize with at most the chip's weight bits)");
    }
    return e;
}

// Per-neuron exponents -> the stored form (PackageInput::exponent); targets
// without synapses (has = 0) match anything.
std::vector<uint8_t> compressExponents(const std::vector<uint8_t>& e, const std::vector<char>& has, int64_t features)
{
    if (std::all_of(e.begin(), e.end(), [](uint8_t x) { return x == 0; }))
        return {};
    std::vector<int> perFeature(static_cast<size_t>(features), -1);
    for (size_t l = 0; l < e.size(); ++l) {
        if (!has[l])
            continue;
        int& f = perFeature[l % size_t(features)];
        if (f >= 0 && f != e[l])
            return e;
        f = e[l];
    }
    std::vector<uint8_t> out(static_cast<size_t>(features));
    for (size_t f = 0; f < out.size(); ++f)
        out[f] = uint8_t(std::max(0, perFeature[f]));
    return out;
}

ProjectionGeometry geometryOf(const Projection& pr)
{
    ProjectionGeometry g;
    g.featureAxis = pr.featureAxis;
    g.inShape = pr.inShape;
    g.outShape = pr.outShape;
    g.inFeatures = pr.inFeatures;
    g.outFeatures = pr.outFeatures;
    g.groups = pr.groups;
    g.axes = pr.axes;
    g.inFeatureToSrc = pr.inFeatureToSrc;
    g.inPositionToSrc = pr.inPositionToSrc;
    g.outFeatureToDst = pr.outFeatureToDst;
    g.outPositionToDst = pr.outPositionToDst;
    g.inElementToSrc = pr.inElementToSrc;
    g.outElementToDst = pr.outElementToDst;
    return g;
}

} // namespace

Package buildPackage(const Network& net, const Mapping& m, const ChipDescriptor& chip, const std::string& pipeline,
                     const Estimate& est)
{
    Package pkg;
    pkg.compilerVersion = STC_VERSION;
    pkg.model = net.model;
    pkg.chipId = chip.id;
    pkg.chipName = chip.name;
    pkg.projectedChip = chip.projectedChip;
    pkg.projectionNote = chip.projectionNote;
    pkg.chipDescriptorJson = chip.sourceText;
    pkg.pipeline = pipeline;
    pkg.timesteps = net.timesteps;
    pkg.depth = net.depth;
    pkg.chipsUsed = m.chipsUsed;
    pkg.objective = m.objective;
    pkg.seed = m.seed;
    pkg.fromQuantizedModule = net.quantized;
    pkg.scheduleMode = net.scheduleMode;
    pkg.chipsRequested = std::max(m.chipsRequested, m.chipsUsed);
    const bool integer = net.quantized;
    const int wb = int(chip.limits.weightBits);
    pkg.weightBits = wb;
    pkg.utilization = m.meanBindingUtilization;
    pkg.stepTimeNs = est.stepTimeNs;
    pkg.energyPj = est.totalPj();
    pkg.latencyNs = est.latencyNs;

    // Value scale of each population's output and the unit of its input.
    const size_t np = net.populations.size();
    std::vector<double> valueScale(np, 1.0), unit(np, 1.0);
    for (size_t i = 0; i < np; ++i) {
        const Population& p = net.populations[i];
        PackagePopulation q;
        q.name = p.name;
        q.kind = toString(p.kind);
        q.model = p.neuron.model;
        q.origin = p.origin;
        q.shape = p.shape;
        q.featureAxis = p.featureAxis;
        q.spikeBits = p.spikeBits;
        q.phase = p.phase;
        q.outputScale = p.outputScale;
        double maxInput = 0;
        std::vector<double> srcScales;
        for (int32_t pi : net.incoming(int32_t(i))) {
            const Projection& pr = net.projections[size_t(pi)];
            float mx = 0;
            for (float w : pr.weights)
                mx = std::max(mx, std::fabs(w));
            maxInput = std::max(maxInput, double(mx) * valueScale[size_t(pr.src)]);
            srcScales.push_back(valueScale[size_t(pr.src)]);
        }
        if (integer) {
            integerParams(p, q);
        } else if (p.kind == PopulationKind::Input) {
            valueScale[i] = p.spikeBits > 1 ? 1.0 / double((int64_t{1} << std::min(p.spikeBits, 16)) - 1) : 1.0;
            q.unit = q.inputScale = valueScale[i];
            q.inputHi = p.spikeBits > 1 ? (int64_t{1} << std::min(p.spikeBits, 16)) - 1 : 1;
        } else if (p.kind == PopulationKind::Product) {
            valueScale[i] = srcScales.size() == 2 ? srcScales[0] * srcScales[1] : 1.0;
            q.unit = valueScale[i];
        } else {
            fixedPoint(p, q, wb, maxInput);
            valueScale[i] = (p.kind == PopulationKind::Relay && p.spikeBits > 1) || p.kind == PopulationKind::Readout
                                ? q.unit
                                : 1.0;
        }
        q.perStepOutput = p.perStepOutput;
        q.biasOnce = p.biasPerInference;
        if (!integer) {
            unit[i] = q.unit;
            q.valueScale = valueScale[i];
        }
        pkg.populations.push_back(std::move(q));
    }
    const int64_t qmaxInt = (int64_t{1} << (wb - 1)) - 1;
    const double qmax = double(qmaxInt);
    // Float mode: the backend's own quantization. Integer mode: the exact
    // weight is mantissa << exponent (exponent per target, see targetExponent).
    auto mantissa = [&](const Projection& pr, float w, int e) {
        if (integer)
            return int32_t(std::ldexp(double(w), -e));
        const double v = double(w) * valueScale[size_t(pr.src)] / unit[size_t(pr.dst)];
        return int32_t(std::clamp(std::llround(v), -(long long)qmax, (long long)qmax));
    };
    for (const auto& pr : net.projections)
        pkg.projections.push_back({pr.name, pr.src, pr.dst, toString(pr.coupling), pr.delay, std::nullopt});

    // Core-local neuron numbering and slice offsets.
    std::vector<int64_t> sliceOffset(m.slices.size(), 0);
    for (const auto& c : m.cores) {
        int64_t off = 0;
        for (int32_t s : c.slices) {
            sliceOffset[size_t(s)] = off;
            off += m.slices[size_t(s)].neurons();
        }
    }
    SliceAnalyzer an(net, chip);
    std::vector<char> usedGeometry(net.projections.size(), 0);
    const SynapseEncoding* dense = chip.encoding("dense");
    const SynapseEncoding* sparse = chip.encoding("sparse");
    const SynapseEncoding* conv = chip.encoding("conv_shared");
    pkg.cores.resize(m.cores.size());
    // Slice and slice-local index of a population neuron.
    auto locate = [&](int32_t pop, int64_t n, int32_t& slice, int64_t& local) {
        const Population& p = net.populations[size_t(pop)];
        slice = m.sliceOf(net, pop, n);
        const Slice& sl = m.slices[size_t(slice)];
        int64_t f, pos;
        p.split(n, f, pos);
        const ir::Shape ps = p.positionShape();
        int64_t c[8] = {0};
        for (size_t a = ps.size(); a-- > 0;) {
            c[a] = pos % ps[a];
            pos /= ps[a];
        }
        int64_t posLocal = 0;
        for (size_t a = 0; a < ps.size(); ++a)
            posLocal = posLocal * (sl.hi[a] - sl.lo[a]) + (c[a] - sl.lo[a]);
        local = posLocal * sl.features() + (f - sl.f0);
    };

    for (size_t ci = 0; ci < m.cores.size(); ++ci) {
        const CoreAssignment& ca = m.cores[ci];
        PackageCore& pc = pkg.cores[ci];
        pc.index = int32_t(ci);
        pc.coord = ca.coord;
        for (size_t k = 0; k < ca.slices.size(); ++k) {
            const int32_t s = ca.slices[k];
            const Slice& sl = m.slices[size_t(s)];
            const Population& dp = net.populations[size_t(sl.pop)];
            pc.slices.push_back(sl);
            for (int64_t l = 0; l < sl.neurons(); ++l) {
                const int64_t n = sl.neuronAt(dp, l);
                const double b = dp.bias.empty() ? 0.0 : dp.bias[size_t(n)];
                if (integer && (b != std::trunc(b) || std::fabs(b) > 2147483647.0))
                    throw std::runtime_error("bias " + std::to_string(b) + " of %" + dp.name + " is not an int32");
                pc.bias.push_back(integer ? int32_t(b) : int32_t(std::llround(b / unit[size_t(sl.pop)])));
            }
            for (const SliceInput& si : m.sliceInputs[size_t(s)]) {
                const Projection& pr = net.projections[size_t(si.projection)];
                const Population& sp = net.populations[size_t(pr.src)];
                PackageInput in;
                in.slice = int32_t(k);
                in.projection = si.projection;
                in.encoding = si.encoding;
                in.delay = pr.delay;
                BitWriter bw(in.table);
                if (si.encoding == Encoding::ConvShared) {
                    an.forEachAxon(sl, si.projection, [&](int64_t n) {
                        int64_t f, pos;
                        sp.split(n, f, pos);
                        in.axonSource.push_back(int32_t(n));
                        in.rowOffset.push_back(uint32_t(in.table.size()));
                        bw.u16(checked16(f, "source feature"));
                        bw.u16(checked16(pos, "source position"));
                    });
                    bw.flush();
                    // Kernel: slice output features x inputs per group x taps.
                    const int64_t per = pr.coupling == Coupling::Full ? pr.inPerGroup() : 1;
                    std::vector<uint8_t> exps;
                    std::vector<std::pair<int64_t, float>> kw;
                    const std::vector<int64_t> diagOp =
                        pr.coupling == Coupling::Full ? std::vector<int64_t>{} : diagOpFeatures(pr, dp, sl);
                    for (int64_t f = sl.f0; f < sl.f1; ++f) {
                        const int64_t o =
                            pr.coupling == Coupling::Full ? pr.dstFeatureToOut[size_t(f)] : diagOp[size_t(f - sl.f0)];
                        kw.clear();
                        for (int64_t ii = 0; ii < per; ++ii)
                            for (int64_t t = 0; t < pr.taps(); ++t)
                                kw.push_back({0, pr.weight(o, ii, t)});
                        const int e = integer ? targetExponent(kw, qmaxInt, pr.name) : 0;
                        exps.push_back(uint8_t(e));
                        for (const auto& [unused, w] : kw)
                            bw.put(uint64_t(uint32_t(mantissa(pr, w, e))), wb);
                    }
                    bw.flush();
                    in.exponent = compressExponents(exps, std::vector<char>(exps.size(), 1), sl.features());
                    usedGeometry[size_t(si.projection)] = 1;
                } else {
                    // Rows from the slice's synapses in slice-local order.
                    std::unordered_map<int64_t, size_t> slot;
                    slot.reserve(size_t(std::min<int64_t>(si.axons, 1 << 20)) * 2);
                    std::vector<std::vector<std::pair<int64_t, int32_t>>> rows;
                    std::vector<std::pair<int64_t, float>> syn; // one target's synapses
                    std::vector<uint8_t> exps(size_t(sl.neurons()), 0);
                    std::vector<char> has(size_t(sl.neurons()), 0);
                    for (int64_t l = 0; l < sl.neurons(); ++l) {
                        syn.clear();
                        forEachSynapseOf(pr, sp, dp, sl.neuronAt(dp, l),
                                         [&](int64_t src, float w) { syn.push_back({src, w}); });
                        const int e = integer ? targetExponent(syn, qmaxInt, pr.name) : 0;
                        exps[size_t(l)] = uint8_t(e);
                        has[size_t(l)] = !syn.empty();
                        for (const auto& [src, w] : syn) {
                            auto [it, fresh] = slot.emplace(src, rows.size());
                            if (fresh) {
                                rows.emplace_back();
                                in.axonSource.push_back(int32_t(src));
                            }
                            rows[it->second].push_back({l, mantissa(pr, w, e)});
                        }
                    }
                    in.exponent = compressExponents(exps, has, sl.features());
                    const int64_t F = sl.features();
                    for (const auto& row : rows) {
                        in.rowOffset.push_back(uint32_t(in.table.size()));
                        if (si.encoding == Encoding::Dense) {
                            std::vector<std::pair<size_t, size_t>> runs; // [begin, end) in row
                            for (size_t k2 = 0; k2 < row.size();) {
                                size_t e = k2 + 1;
                                while (e < row.size() && row[e].first == row[e - 1].first + 1 &&
                                       row[e].first / F == row[k2].first / F)
                                    ++e;
                                runs.push_back({k2, e});
                                k2 = e;
                            }
                            bw.u16(checked16(int64_t(runs.size()), "run count"));
                            for (const auto& [b, e] : runs) {
                                bw.u16(checked16(row[b].first, "run start"));
                                bw.u16(checked16(int64_t(e - b), "run length"));
                                for (size_t k2 = b; k2 < e; ++k2)
                                    bw.put(uint64_t(uint32_t(row[k2].second)), wb);
                                bw.flush();
                            }
                        } else {
                            int64_t nnz = 0;
                            for (const auto& e : row)
                                nnz += e.second != 0 ? 1 : 0;
                            bw.u16(checked16(nnz, "entry count"));
                            bw.u16(0);
                            for (const auto& e : row)
                                if (e.second != 0) {
                                    bw.put(uint64_t(uint32_t(e.second)), wb);
                                    bw.put(uint64_t(e.first), int(sparse->indexBits));
                                }
                            bw.flush();
                        }
                    }
                }
                if (int64_t(in.table.size()) != si.bytes)
                    throw std::logic_error("synapse table of " + pr.name + " into a slice of %" + dp.name + " is " +
                                           std::to_string(in.table.size()) + " bytes, the mapper counted " +
                                           std::to_string(si.bytes));
                pc.inputs.push_back(std::move(in));
            }
        }
    }
    (void)dense;
    (void)conv;
    for (size_t pi = 0; pi < net.projections.size(); ++pi)
        if (usedGeometry[pi])
            pkg.projections[pi].geometry = geometryOf(net.projections[pi]);
    // Routing: every axon of every input is one output axon of its source neuron's core.
    for (size_t ci = 0; ci < pkg.cores.size(); ++ci)
        for (size_t k = 0; k < pkg.cores[ci].inputs.size(); ++k) {
            const PackageInput& in = pkg.cores[ci].inputs[k];
            const int32_t srcPop = net.projections[size_t(in.projection)].src;
            for (size_t a = 0; a < in.axonSource.size(); ++a) {
                int32_t s;
                int64_t local;
                locate(srcPop, in.axonSource[a], s, local);
                const int32_t srcCore = m.sliceCore[size_t(s)];
                pkg.cores[size_t(srcCore)].routes.push_back(
                    {int32_t(sliceOffset[size_t(s)] + local), int32_t(ci), int32_t(k), int32_t(a)});
            }
        }
    for (auto& c : pkg.cores)
        std::sort(c.routes.begin(), c.routes.end(), [](const RouteEntry& a, const RouteEntry& b) {
            return std::tie(a.localNeuron, a.destCore, a.destInput, a.destAxon) <
                   std::tie(b.localNeuron, b.destCore, b.destInput, b.destAxon);
        });
    return pkg;
}

} // namespace stc::target
