// Field-by-field digest of a loaded sim::SimProgram: one (field path, hash)
// entry per field the executors read, per population, core, slice and
// input, so that two loads can be compared and the first differing field
// named (e.g. "core 17 input 2 rows").
#pragma once

#include "sim/program.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace stc::simtest {

class Digest {
public:
    std::vector<std::pair<std::string, uint64_t>> fields;

    template <typename T>
    void add(const std::string& name, const std::vector<T>& v)
    {
        static_assert(std::is_arithmetic_v<T>);
        uint64_t h = mix(kSeed, v.size());
        h = bytes(h, v.data(), v.size() * sizeof(T));
        fields.push_back({name, h});
    }
    void add(const std::string& name, const std::string& s) { fields.push_back({name, bytes(kSeed, s.data(), s.size())}); }
    template <typename... T>
    void scalars(const std::string& name, const T&... v)
    {
        uint64_t h = kSeed;
        ((h = scalar(h, v)), ...);
        fields.push_back({name, h});
    }

private:
    static constexpr uint64_t kSeed = 1469598103934665603ull;
    static uint64_t mix(uint64_t h, uint64_t v) { return bytes(h, &v, sizeof v); }
    template <typename T>
    static uint64_t scalar(uint64_t h, const T& v)
    {
        if constexpr (std::is_floating_point_v<T>) {
            double d = double(v);
            return bytes(h, &d, sizeof d);
        } else
            return mix(h, uint64_t(int64_t(v)));
    }
    static uint64_t bytes(uint64_t h, const void* p, size_t n)
    {
        const auto* c = static_cast<const unsigned char*>(p);
        for (size_t i = 0; i < n; ++i)
            h = (h ^ c[i]) * 1099511628211ull;
        return h;
    }
};

inline std::vector<std::pair<std::string, uint64_t>> programDigest(const sim::SimProgram& p)
{
    Digest d;
    d.add("model", p.model);
    d.add("chip", p.chipId + "|" + p.chipName + "|" + p.projectionNote + "|" + p.scheduleMode);
    d.scalars("program", p.projectedChip, p.fromQuantizedModule, p.timesteps, p.depth, p.weightBits, p.chipsUsed,
              p.totalNeurons, p.populations.size(), p.projections.size(), p.cores.size());
    d.add("inputPops", p.inputPops);
    d.add("readoutPops", p.readoutPops);
    for (size_t i = 0; i < p.populations.size(); ++i) {
        const sim::PopulationInfo& q = p.populations[i];
        const std::string at = "population " + std::to_string(i) + " ";
        d.add(at + "names", q.name + "|" + q.origin + "|" + q.model);
        d.add(at + "shape", q.shape);
        d.scalars(at + "scalars", int(q.kind), q.phase, q.size, q.firstId, q.featureAxis, q.valueScale, q.outputScale,
                  q.perStepOutput, q.membraneOut, q.biasOnce, q.inputScale, q.inputLo, q.inputHi);
        d.scalars(at + "neuron", q.neuron.du, q.neuron.dv, q.neuron.actShift, q.neuron.theta, q.neuron.fireOnEqual,
                  int(q.neuron.reset));
    }
    for (const sim::CoreProgram& c : p.cores) {
        const std::string at = "core " + std::to_string(c.index) + " ";
        d.scalars(at + "scalars", c.index, c.coord.chip, c.coord.tileX, c.coord.tileY, c.coord.core, c.neurons, c.maxDelay,
                  c.slices.size(), c.inputs.size());
        d.add(at + "bias", c.bias);
        d.add(at + "routeStart", c.routeStart.values());
        d.add(at + "neuronSlice", c.neuronSlice);
        std::vector<int64_t> routes;
        for (const sim::RouteHop& r : c.routes)
            for (int64_t v : {int64_t(r.destCore), int64_t(r.destInput), int64_t(r.destAxon), int64_t(r.entry),
                              int64_t(r.hopsEw), int64_t(r.hopsNs), int64_t(r.chipLinks)})
                routes.push_back(v);
        d.add(at + "routes", routes);
        std::vector<float> latency;
        for (const sim::RouteHop& r : c.routes)
            latency.push_back(r.latencyNs);
        d.add(at + "route latency", latency);
        for (size_t s = 0; s < c.slices.size(); ++s) {
            const sim::SliceInfo& si = c.slices[s];
            d.scalars(at + "slice " + std::to_string(s), si.pop, si.first, si.count, si.features);
            d.add(at + "slice " + std::to_string(s) + " popNeuron", si.popNeuron);
        }
        for (size_t k = 0; k < c.inputs.size(); ++k) {
            const sim::SynapseBlock& b = c.inputs[k];
            const std::string in = at + "input " + std::to_string(k) + " ";
            d.scalars(in + "scalars", b.slice, b.projection, b.srcPop, b.compartment, b.delay, b.lastSend,
                      int(b.encoding), b.axons, b.dstPop, b.fromInput, b.conv, b.structuralSynapses, b.unitRuns);
            d.add(in + "rowStart", b.rowStart);
            d.add(in + "rows", b.rows.values());
            const sim::ConvPlan& pl = b.plan;
            d.scalars(in + "plan", pl.taps, pl.inPerGroup, pl.bytesPerTap, pl.groups.size(), pl.axons.size());
            d.add(in + "plan axonFeature", pl.axonFeature);
            d.add(in + "plan axonPosition", pl.axonPosition);
            d.add(in + "plan tapStart", pl.tapStart);
            d.add(in + "plan tapTap", pl.tapTap);
            d.add(in + "plan tapBase", pl.tapBase);
            std::vector<int32_t> axons;
            for (const sim::ConvPlan::Axon& a : pl.axons)
                axons.insert(axons.end(), {a.group, a.kernelRow, a.tapBegin, a.tapEnd});
            d.add(in + "plan axons", axons);
            for (size_t g = 0; g < pl.groups.size(); ++g) {
                d.add(in + "plan group " + std::to_string(g) + " features", pl.groups[g].features);
                d.add(in + "plan group " + std::to_string(g) + " kernel", pl.groups[g].kernel.values());
                const std::vector<int8_t>& narrow = pl.groups[g].narrow.values();
                d.add(in + "plan group " + std::to_string(g) + " narrow",
                      std::vector<int32_t>(narrow.begin(), narrow.end()));
                d.add(in + "plan group " + std::to_string(g) + " shift", pl.groups[g].shift.values());
                d.scalars(in + "plan group " + std::to_string(g) + " contiguous", pl.groups[g].contiguous);
            }
        }
    }
    return std::move(d.fields);
}

} // namespace stc::simtest
