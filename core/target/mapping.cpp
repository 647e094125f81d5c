#include "target/mapping.h"

#include "target/slice_analysis.h"
#include "interp/thread_pool.h"

#include <algorithm>

namespace stc::target {

const char* toString(Encoding e)
{
    switch (e) {
    case Encoding::Dense: return "dense";
    case Encoding::Sparse: return "sparse";
    case Encoding::ConvShared: return "conv_shared";
    }
    return "?";
}

const char* toString(Resource r)
{
    switch (r) {
    case Resource::Neurons: return "neurons";
    case Resource::FanIn: return "fan-in axons";
    case Resource::FanOut: return "fan-out axons";
    case Resource::SynapticMemory: return "synaptic memory";
    case Resource::CoreMemory: return "core memory";
    case Resource::StepTime: return "step time";
    }
    return "?";
}

bool operator==(const Utilization& a, const Utilization& b)
{
    return a.binding == b.binding && std::equal(std::begin(a.of), std::end(a.of), std::begin(b.of));
}

int64_t Slice::positionCount() const
{
    int64_t n = 1;
    for (size_t a = 0; a < lo.size(); ++a)
        n *= std::max<int64_t>(0, hi[a] - lo[a]);
    return n;
}

int64_t Slice::neuronAt(const Population& p, int64_t local) const
{
    const int64_t F = features();
    int64_t posLocal = local / F;
    const int64_t f = f0 + local % F;
    const ir::Shape ps = p.positionShape();
    int64_t flat = 0, stride = 1;
    for (size_t a = ps.size(); a-- > 0;) {
        const int64_t ext = hi[a] - lo[a];
        const int64_t c = lo[a] + posLocal % ext;
        posLocal /= ext;
        flat += c * stride;
        stride *= ps[a];
    }
    return p.neuronIndex(f, flat);
}

bool Slice::contains(const Population& p, int64_t neuron) const
{
    int64_t f, pos;
    p.split(neuron, f, pos);
    if (f < f0 || f >= f1)
        return false;
    const ir::Shape ps = p.positionShape();
    for (size_t a = ps.size(); a-- > 0;) {
        const int64_t c = pos % ps[a];
        pos /= ps[a];
        if (c < lo[a] || c >= hi[a])
            return false;
    }
    return true;
}

Usage& Usage::operator+=(const Usage& o)
{
    neurons += o.neurons;
    fanInAxons += o.fanInAxons;
    fanOutAxons += o.fanOutAxons;
    synapticBytes += o.synapticBytes;
    stateBytes += o.stateBytes;
    synOpsPerStep += o.synOpsPerStep;
    spikesOutPerStep += o.spikesOutPerStep;
    timeNs += o.timeNs;
    return *this;
}

std::vector<int32_t> Mapping::coresOfPopulation(int32_t pop) const
{
    std::vector<int32_t> out;
    for (size_t s = 0; s < slices.size(); ++s)
        if (slices[s].pop == pop && s < sliceCore.size())
            out.push_back(sliceCore[s]);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

int32_t sliceIndexOf(const Population& p, const std::vector<int64_t>& b, int32_t first, int64_t n)
{
    int64_t f, pos;
    p.split(n, f, pos);
    const ir::Shape ps = p.positionShape();
    int64_t coord[8] = {0};
    for (size_t a = ps.size(); a-- > 0;) {
        coord[a] = pos % ps[a];
        pos /= ps[a];
    }
    int64_t idx = f / b[0];
    for (size_t a = 0; a < ps.size(); ++a)
        idx = idx * ((ps[a] + b[a + 1] - 1) / b[a + 1]) + coord[a] / b[a + 1];
    return first + int32_t(idx);
}

int32_t Mapping::sliceOf(const Network& net, int32_t pop, int64_t n) const
{
    return sliceIndexOf(net.populations[size_t(pop)], popBlock[size_t(pop)], popFirstSlice[size_t(pop)], n);
}

NeuronLocator::NeuronLocator(const Network& net, const std::vector<std::vector<int64_t>>& popBlock,
                             const std::vector<int32_t>& popFirstSlice, const std::vector<Slice>& slices, int threads)
    : popBlock_(popBlock), popFirstSlice_(popFirstSlice), slices_(slices)
{
    pops_.resize(net.populations.size());
    for (size_t i = 0; i < pops_.size() && i < popBlock.size(); ++i) {
        const Population& p = net.populations[i];
        Pop& q = pops_[i];
        q.inner = p.shape.empty() ? 1 : p.innerStride();
        q.features = p.features();
        q.posShape = p.positionShape();
        q.block = popBlock[i];
        q.first = popFirstSlice[i];
        if (q.block.size() != q.posShape.size() + 1 || q.posShape.size() > 8)
            continue; // not partitioned: slice() must not be asked
        for (size_t a = 0; a < q.posShape.size(); ++a)
            q.blocksPerAxis.push_back((q.posShape[a] + q.block[a + 1] - 1) / q.block[a + 1]);
    }
    // The tables, from each slice's neurons in slice-local order (positions
    // row-major, features inner), the order locate() computes. Slices write
    // disjoint entries, so they are filled in parallel.
    auto tabulated = [&](size_t i) {
        const Pop& q = pops_[i];
        return !(q.blocksPerAxis.size() != q.posShape.size() || q.first < 0 ||
                 (q.posShape.empty() && q.block.size() != 1));
    };
    // A population's slices: the run from its first slice while they are its own.
    std::vector<size_t> runEnd(pops_.size(), 0);
    for (size_t i = 0; i < pops_.size(); ++i)
        if (tabulated(i))
            for (runEnd[i] = size_t(pops_[i].first); runEnd[i] < slices.size() && slices[runEnd[i]].pop == int32_t(i);)
                ++runEnd[i];
    interp::ThreadPool pool(threads < 1 ? 0 : threads);
    where_.resize(pops_.size());
    pool.parallelFor(int64_t(pops_.size()), [&](int64_t i, int) {
        if (tabulated(size_t(i)))
            where_[size_t(i)].assign(size_t(net.populations[size_t(i)].size()), {-1, 0});
    });
    pool.parallelFor(int64_t(slices.size()), [&](int64_t s, int) {
        const Slice& sl = slices[size_t(s)];
        const size_t i = size_t(sl.pop);
        if (i >= pops_.size() || !tabulated(i) || int64_t(s) < pops_[i].first || size_t(s) >= runEnd[i])
            return;
        const Pop& q = pops_[i];
        const Population& p = net.populations[i];
        auto& w = where_[i];
        int32_t local = 0;
        forEachSlicePosition(q.posShape, sl, [&](int64_t pd) {
            for (int64_t f = sl.f0; f < sl.f1; ++f)
                w[size_t(p.neuronIndex(f, pd))] = {int32_t(s), local++};
        });
    });
}

bool NeuronLocator::builtFor(const std::vector<std::vector<int64_t>>& popBlock, const std::vector<int32_t>& popFirstSlice,
                             const std::vector<Slice>& slices) const
{
    return popBlock == popBlock_ && popFirstSlice == popFirstSlice_ && slices == slices_;
}

int32_t NeuronLocator::sliceAndCoords(const Pop& p, int64_t n, int64_t& f, int64_t* coord) const
{
    f = (n / p.inner) % p.features;
    int64_t pos = (n / (p.inner * p.features)) * p.inner + n % p.inner;
    for (size_t a = p.posShape.size(); a-- > 0;) {
        coord[a] = pos % p.posShape[a];
        pos /= p.posShape[a];
    }
    int64_t idx = f / p.block[0];
    for (size_t a = 0; a < p.posShape.size(); ++a)
        idx = idx * p.blocksPerAxis[a] + coord[a] / p.block[a + 1];
    return p.first + int32_t(idx);
}

int32_t NeuronLocator::slice(int32_t pop, int64_t n) const
{
    if (const auto& w = where_[size_t(pop)]; !w.empty())
        return w[size_t(n)].first;
    int64_t f, coord[8];
    return sliceAndCoords(pops_[size_t(pop)], n, f, coord);
}

int32_t NeuronLocator::locate(int32_t pop, int64_t n, int64_t& local) const
{
    if (const auto& w = where_[size_t(pop)]; !w.empty()) {
        local = w[size_t(n)].second;
        return w[size_t(n)].first;
    }
    const Pop& p = pops_[size_t(pop)];
    int64_t f, coord[8];
    const int32_t s = sliceAndCoords(p, n, f, coord);
    const Slice& sl = slices_[size_t(s)];
    int64_t posLocal = 0;
    for (size_t a = 0; a < p.posShape.size(); ++a)
        posLocal = posLocal * (sl.hi[a] - sl.lo[a]) + (coord[a] - sl.lo[a]);
    local = posLocal * sl.features() + (f - sl.f0);
    return s;
}

} // namespace stc::target
