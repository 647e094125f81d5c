#include "target/network.h"

#include <cstring>
#include <stdexcept>

namespace stc::target {

const char* toString(Coupling c)
{
    switch (c) {
    case Coupling::Full: return "full";
    case Coupling::Diag: return "diag";
    case Coupling::Explicit: return "explicit";
    }
    return "?";
}

const char* toString(PopulationKind k)
{
    switch (k) {
    case PopulationKind::Input: return "input";
    case PopulationKind::Lif: return "lif";
    case PopulationKind::Relay: return "relay";
    case PopulationKind::Product: return "product";
    case PopulationKind::Readout: return "readout";
    }
    return "?";
}

ir::Shape Population::positionShape() const
{
    ir::Shape s;
    for (size_t a = 0; a < shape.size(); ++a)
        if (int(a) != featureAxis)
            s.push_back(shape[a]);
    return s;
}

int64_t Projection::inPositions() const
{
    int64_t n = 1;
    for (const auto& a : axes)
        n *= a.inSize;
    return n;
}

int64_t Projection::outPositions() const
{
    int64_t n = 1;
    for (const auto& a : axes)
        n *= a.outSize;
    return n;
}

namespace {

// Valid taps of a stencil axis summed over its outputs.
int64_t validPairs(const StencilAxis& ax)
{
    int64_t n = 0;
    for (int64_t o = 0; o < ax.outSize; ++o)
        for (int64_t k = 0; k < ax.kernel; ++k) {
            const int64_t p = o * ax.stride - ax.pad + k * ax.dilation;
            n += (p >= 0 && p < ax.inSize) ? 1 : 0;
        }
    return n;
}

} // namespace

int64_t Projection::synapseCount() const
{
    if (coupling == Coupling::Explicit)
        return int64_t(srcNeuron.size());
    int64_t pairs = 1;
    for (const auto& a : axes)
        pairs *= validPairs(a);
    return pairs * outFeatures * (coupling == Coupling::Full ? inPerGroup() : 1);
}

int64_t uniformRowLength(const Projection& pr, int64_t dstNeurons)
{
    if (pr.rowLength > 0)
        return int64_t(pr.srcNeuron.size()) == dstNeurons * pr.rowLength ? pr.rowLength : -1;
    const std::vector<int64_t>& rs = pr.rowStart;
    if (int64_t(rs.size()) != dstNeurons + 1 || rs[0] != 0 || size_t(rs.back()) != pr.srcNeuron.size())
        return -1;
    const int64_t L = rs.size() > 1 ? rs[1] : 0;
    int64_t differ = 0; // no early exit: a vectorized compare of every row start
    for (size_t i = 0; i < rs.size(); ++i)
        differ |= rs[i] ^ (int64_t(i) * L);
    return differ == 0 ? L : -1;
}

void compactExplicit(Projection& pr, int64_t dstNeurons)
{
    if (pr.coupling != Coupling::Explicit)
        return;
    const size_t n = pr.srcNeuron.size();
    if (!pr.sharedWeight && n > 0 && pr.weights.size() == n) {
        // Equal bits, not float ==: 0.0f and -0.0f stay distinct weights.
        uint32_t first, differ = 0;
        std::memcpy(&first, pr.weights.data(), sizeof first);
        for (float w : pr.weights) {
            uint32_t b;
            std::memcpy(&b, &w, sizeof b);
            differ |= b ^ first;
        }
        if (differ == 0) {
            pr.weights = std::vector<float>{pr.weights[0]}; // the memory back too
            pr.sharedWeight = true;
        }
    }
    if (pr.rowLength > 0)
        return;
    if (const int64_t L = uniformRowLength(pr, dstNeurons); L > 0) {
        pr.rowLength = L;
        std::vector<int64_t>().swap(pr.rowStart);
    }
}

void expandExplicit(Projection& pr, int64_t dstNeurons)
{
    if (pr.coupling != Coupling::Explicit)
        return;
    if (pr.rowLength > 0) {
        if (dstNeurons * pr.rowLength != int64_t(pr.srcNeuron.size()))
            throw std::logic_error(pr.name + ": " + std::to_string(pr.srcNeuron.size()) + " synapses are not " +
                                   std::to_string(dstNeurons) + " rows of " + std::to_string(pr.rowLength));
        pr.rowStart.resize(size_t(dstNeurons) + 1);
        for (int64_t i = 0; i <= dstNeurons; ++i)
            pr.rowStart[size_t(i)] = i * pr.rowLength;
        pr.rowLength = 0;
    }
    if (pr.sharedWeight) {
        pr.weights.assign(pr.srcNeuron.size(), pr.weights.at(0));
        pr.sharedWeight = false;
    }
}

std::vector<int32_t> Network::incoming(int32_t pop) const
{
    std::vector<int32_t> out;
    for (size_t i = 0; i < projections.size(); ++i)
        if (projections[i].dst == pop)
            out.push_back(int32_t(i));
    return out;
}

std::vector<int32_t> Network::outgoing(int32_t pop) const
{
    std::vector<int32_t> out;
    for (size_t i = 0; i < projections.size(); ++i)
        if (projections[i].src == pop)
            out.push_back(int32_t(i));
    return out;
}

int64_t Network::neuronCount() const
{
    int64_t n = 0;
    for (const auto& p : populations)
        n += p.size();
    return n;
}

int64_t Network::synapseCount() const
{
    int64_t n = 0;
    for (const auto& p : projections)
        n += p.synapseCount();
    return n;
}

double Network::synapticOpsPerStep() const
{
    double ops = 0;
    for (const auto& pr : projections) {
        const Population& s = populations[size_t(pr.src)];
        ops += double(pr.synapseCount()) * s.rate;
    }
    return ops;
}

void unflatten(int64_t flat, const std::vector<int64_t>& sizes, std::vector<int64_t>& out)
{
    out.resize(sizes.size());
    for (size_t a = sizes.size(); a-- > 0;) {
        out[a] = sizes[a] == 0 ? 0 : flat % sizes[a];
        flat = sizes[a] == 0 ? 0 : flat / sizes[a];
    }
}

} // namespace stc::target
