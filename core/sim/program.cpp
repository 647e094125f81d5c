// Package -> SimProgram: decodes every core's synapse tables (dense and sparse
// rows through target::decodeRows, conv_shared kernels through the stored
// projection geometry) into effective integer weights, and resolves each
// route's mesh path once.
#include "sim/program.h"

#include "target/network.h"
#include "target/placement.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>

namespace stc::sim {

using target::Encoding;

const char* toString(NeuronKind k)
{
    switch (k) {
    case NeuronKind::Input: return "input";
    case NeuronKind::Lif: return "lif";
    case NeuronKind::RelayOr: return "relay (or)";
    case NeuronKind::RelayGraded: return "relay (graded)";
    case NeuronKind::Product: return "product";
    case NeuronKind::Readout: return "readout";
    }
    return "?";
}

int64_t SimProgram::inputSize() const
{
    int64_t n = 0;
    for (int32_t p : inputPops)
        n += populations[size_t(p)].size;
    return n;
}

namespace {

// The population shape/feature-axis arithmetic of target::Population.
target::Population shapeOf(const PopulationInfo& p)
{
    target::Population t;
    t.shape = p.shape;
    t.featureAxis = p.featureAxis;
    return t;
}

// Slice-local index of population neuron (feature f, flat position pos), or -1.
int64_t localIndex(const target::Slice& s, const std::vector<int64_t>& posShape, int64_t f, int64_t pos)
{
    if (f < s.f0 || f >= s.f1)
        return -1;
    int64_t local = 0, rem = pos;
    int64_t coord[8] = {0};
    for (size_t a = posShape.size(); a-- > 0;) {
        coord[a] = rem % posShape[a];
        rem /= posShape[a];
    }
    for (size_t a = 0; a < posShape.size(); ++a) {
        if (coord[a] < s.lo[a] || coord[a] >= s.hi[a])
            return -1;
        local = local * (s.hi[a] - s.lo[a]) + (coord[a] - s.lo[a]);
    }
    return local * s.features() + (f - s.f0);
}

std::vector<int32_t> inverse(const std::vector<int32_t>& map, int64_t size)
{
    std::vector<int32_t> inv(size_t(std::max<int64_t>(size, 0)), -1);
    for (size_t i = 0; i < map.size(); ++i)
        if (map[i] >= 0 && map[i] < size)
            inv[size_t(map[i])] = int32_t(i);
    return inv;
}

// Output positions q reached from input position p, per tap (row-major).
// Each axis's valid kernel offsets are found on their own and combined, so
// the cost is the sum of the kernel extents plus the outputs reached, not
// their product: a global pooling kernel has as many taps as the input has
// positions, yet each input position reaches one output.
template <typename F>
void forEachOutputOf(const std::vector<target::StencilAxis>& axes, int64_t p, F&& f)
{
    const size_t rank = axes.size();
    if (rank > 8)
        throw std::runtime_error("stencil of more than 8 axes");
    int64_t pc[8];
    int64_t rem = p;
    for (size_t a = rank; a-- > 0;) {
        pc[a] = rem % axes[a].inSize;
        rem /= axes[a].inSize;
    }
    // Per axis: the kernel offsets k that reach an output, with that output's coordinate.
    struct Hit {
        int64_t k, out;
    };
    thread_local std::vector<Hit> hits;
    hits.clear();
    size_t begin[9];
    for (size_t a = 0; a < rank; ++a) {
        const auto& ax = axes[a];
        begin[a] = hits.size();
        if (ax.stride == 0) // broadcast axis: every output reads input 0
            return;
        // n = pc + pad - k * dilation must lie in [0, (outSize - 1) * stride]:
        // only the offsets k in [kLo, kHi] can, the rest are not visited.
        int64_t kLo = 0, kHi = ax.kernel - 1;
        if (ax.dilation > 0 && ax.stride > 0) {
            const int64_t top = pc[a] + ax.pad, low = top - (ax.outSize - 1) * ax.stride;
            kHi = std::min(kHi, top >= 0 ? top / ax.dilation : -1);
            if (low > 0)
                kLo = (low + ax.dilation - 1) / ax.dilation;
        }
        for (int64_t k = kLo; k <= kHi; ++k) {
            const int64_t n = pc[a] + ax.pad - k * ax.dilation;
            if (n >= 0 && n % ax.stride == 0 && n / ax.stride < ax.outSize)
                hits.push_back({k, n / ax.stride});
        }
        if (hits.size() == begin[a])
            return;
    }
    begin[rank] = hits.size();
    size_t at[8];
    for (size_t a = 0; a < rank; ++a)
        at[a] = begin[a];
    while (true) {
        int64_t tap = 0, q = 0;
        for (size_t a = 0; a < rank; ++a) {
            tap = tap * axes[a].kernel + hits[at[a]].k;
            q = q * axes[a].outSize + hits[at[a]].out;
        }
        f(tap, q);
        size_t a = rank;
        while (a-- > 0) {
            if (++at[a] < begin[a + 1])
                break;
            at[a] = begin[a];
        }
        if (a == size_t(-1))
            return;
    }
}

// Signed field of `bits` (<= 56) bits at bit position bitPos (LSB first).
int64_t bitsField(const std::vector<uint8_t>& t, int64_t bitPos, int bits)
{
    const size_t byte = size_t(bitPos >> 3);
    const int shift = int(bitPos & 7);
    const size_t bytes = size_t(shift + bits + 7) / 8;
    if (byte + bytes > t.size())
        throw std::runtime_error("kernel table truncated");
    uint64_t v = 0;
    for (size_t k = 0; k < bytes; ++k)
        v |= uint64_t(t[byte + k]) << (8 * k);
    v >>= shift;
    return int64_t(v << (64 - bits)) >> (64 - bits);
}

int32_t effective(int64_t mantissa, int exponent)
{
    const int64_t w = mantissa * (int64_t{1} << exponent);
    if (w > INT32_MAX || w < INT32_MIN)
        throw std::runtime_error("effective weight out of int32 range");
    return int32_t(w);
}

// Appends the row record of the next axon from (target, weight) pairs.
void appendRow(SynapseBlock& b, std::vector<int32_t>& rows, std::vector<std::pair<uint32_t, int32_t>>& syn,
               uint32_t tableBytes)
{
    const auto byTarget = [](const auto& x, const auto& y) { return x.first < y.first; };
    if (!std::is_sorted(syn.begin(), syn.end(), byTarget))
        std::sort(syn.begin(), syn.end(), byTarget);
    if (syn.size() > uint32_t(INT32_MAX) || tableBytes > uint32_t(INT32_MAX))
        throw std::runtime_error("synapse row too long");
    b.rowStart.push_back(uint32_t(rows.size()));
    const size_t header = rows.size();
    rows.insert(rows.end(), {0, int32_t(syn.size()), int32_t(tableBytes)});
    for (size_t k = 0; k < syn.size();) {
        size_t e = k + 1;
        while (e < syn.size() && syn[e].first == syn[e - 1].first + 1)
            ++e;
        rows.push_back(int32_t(syn[k].first));
        rows.push_back(int32_t(e - k));
        for (size_t j = k; j < e; ++j)
            rows.push_back(syn[j].second);
        ++rows[header];
        k = e;
    }
    b.structuralSynapses += int64_t(syn.size());
    if (rows.size() > size_t(UINT32_MAX))
        throw std::runtime_error("synapse rows of one input exceed 4 G entries");
}

// Source neuron -> op input elements of a diagonal conv_shared projection
// (CSR), built once per projection and shared by the cores its slices are on.
struct SourceElements {
    std::vector<int32_t> start, elems;
};

SourceElements sourceElements(const target::ProjectionGeometry& g, int64_t srcSize)
{
    SourceElements se;
    se.start.assign(size_t(srcSize + 1), 0);
    se.elems.resize(g.inElementToSrc.size());
    for (int32_t s : g.inElementToSrc)
        if (s >= 0) {
            if (s >= srcSize)
                throw std::runtime_error("op input element maps to a source neuron outside the population");
            ++se.start[size_t(s) + 1];
        }
    for (size_t i = 1; i < se.start.size(); ++i)
        se.start[i] += se.start[i - 1];
    std::vector<int32_t> fill(se.start.begin(), se.start.end() - 1);
    for (size_t e = 0; e < g.inElementToSrc.size(); ++e)
        if (g.inElementToSrc[e] >= 0)
            se.elems[size_t(fill[size_t(g.inElementToSrc[e])]++)] = int32_t(e);
    return se;
}

// conv_shared kernels already decoded, by everything their values depend on
// (see kernelKey): blocks with equal keys share them (SharedWeights).
class KernelCache {
public:
    std::optional<std::vector<SharedWeights>> find(const std::string& key)
    {
        std::lock_guard lock(mu_);
        auto it = kernels_.find(key);
        if (it == kernels_.end())
            return std::nullopt;
        return it->second;
    }
    // The cached kernels of `key`: `built` unless another thread got there first.
    std::vector<SharedWeights> insert(std::string key, std::vector<SharedWeights> built)
    {
        std::lock_guard lock(mu_);
        return kernels_.try_emplace(std::move(key), std::move(built)).first->second;
    }

private:
    std::mutex mu_;
    std::unordered_map<std::string, std::vector<SharedWeights>> kernels_;
};

// Row records by content: a block whose records equal an earlier block's
// shares them.
class RowCache {
public:
    SharedArray<int32_t> intern(std::vector<int32_t> rows)
    {
        uint64_t h = 1469598103934665603ull; // FNV-1a over the words
        for (int32_t v : rows)
            h = (h ^ uint32_t(v)) * 1099511628211ull;
        std::lock_guard lock(mu_);
        std::vector<SharedArray<int32_t>>& same = rows_[h];
        for (const SharedArray<int32_t>& r : same)
            if (r.values() == rows)
                return r;
        same.emplace_back(std::move(rows));
        return same.back();
    }

private:
    std::mutex mu_;
    std::unordered_map<uint64_t, std::vector<SharedArray<int32_t>>> rows_;
};

struct Context {
    const target::Package& pkg;
    const SimProgram& prog;
    int indexBits = 0;
    int convHeaderBytes = 4;
    std::vector<SourceElements> diagSources; // per projection (empty unless diagonal conv_shared)
    KernelCache* kernels = nullptr; // null: every block decodes its own
    RowCache* rows = nullptr;
};

void decodeRowsInto(const Context& cx, const target::PackageInput& in, const SliceInfo& si, const target::Slice& sl,
                    SynapseBlock& b, std::vector<int32_t>& out)
{
    std::vector<std::vector<std::pair<uint32_t, int32_t>>> rows(in.axonSource.size());
    std::string err;
    const bool ok = target::decodeRows(in, cx.pkg.weightBits, cx.indexBits, sl.neurons(),
                                       [&](int64_t axon, int64_t local, int32_t m) {
                                           const int e = in.exponentOf(local, sl.features());
                                           rows[size_t(axon)].push_back(
                                               {uint32_t(si.first + local), effective(m, e)});
                                       },
                                       &err);
    if (!ok)
        throw std::runtime_error(err);
    // The exact size of the row records, so that `rows` is allocated once.
    size_t total = out.size();
    for (auto& r : rows) {
        std::sort(r.begin(), r.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
        total += SynapseBlock::kRowHeader + r.size();
        for (size_t k = 0; k < r.size(); ++k)
            if (k == 0 || r[k].first != r[k - 1].first + 1)
                total += SynapseBlock::kRunHeader;
    }
    out.reserve(total);
    b.rowStart.reserve(b.rowStart.size() + rows.size());
    for (size_t a = 0; a < rows.size(); ++a) {
        const uint32_t next = a + 1 < in.rowOffset.size() ? in.rowOffset[a + 1] : uint32_t(in.table.size());
        appendRow(b, out, rows[a], next - in.rowOffset[a]);
    }
}

int64_t kernelStart(const Context& cx, const target::PackageInput& in)
{
    return int64_t(in.axonSource.size()) * cx.convHeaderBytes;
}

// Everything a block's decoded kernels depend on: weight bits, group shape,
// the features of each group, their exponents and the kernel's table bytes.
std::string kernelKey(const Context& cx, const target::PackageInput& in, int64_t F, const ConvPlan& plan)
{
    std::string key;
    auto put = [&key](const auto& v) { key.append(reinterpret_cast<const char*>(&v), sizeof(v)); };
    put(int64_t(cx.pkg.weightBits)), put(plan.inPerGroup), put(plan.taps), put(F), put(int64_t(plan.groups.size()));
    for (const auto& grp : plan.groups) {
        put(int64_t(grp.features.size()));
        key.append(reinterpret_cast<const char*>(grp.features.data()), grp.features.size() * sizeof(uint32_t));
    }
    for (int64_t fl = 0; fl < F; ++fl)
        put(int32_t(in.exponentOf(fl, F)));
    const size_t k0 = size_t(std::min<int64_t>(kernelStart(cx, in), int64_t(in.table.size())));
    key.append(reinterpret_cast<const char*>(in.table.data()) + k0, in.table.size() - k0);
    return key;
}

// The effective weights of every group of `plan`, shared with earlier blocks
// of equal kernelKey.
void decodeKernels(const Context& cx, const target::PackageInput& in, int64_t F, ConvPlan& plan)
{
    std::string key;
    if (cx.kernels) {
        key = kernelKey(cx, in, F, plan);
        if (auto cached = cx.kernels->find(key)) {
            for (size_t g = 0; g < plan.groups.size(); ++g)
                plan.groups[g].kernel = (*cached)[g];
            return;
        }
    }
    const int64_t kbits0 = kernelStart(cx, in) * 8;
    const int wb = cx.pkg.weightBits;
    std::vector<SharedWeights> built;
    for (auto& grp : plan.groups) {
        const size_t n = grp.features.size();
        std::vector<int32_t> kernel(size_t(plan.inPerGroup * plan.taps) * n, 0);
        for (size_t j = 0; j < n; ++j) {
            const int64_t fl = grp.features[j];
            const int e = in.exponentOf(fl, F);
            for (int64_t ii = 0; ii < plan.inPerGroup; ++ii)
                for (int64_t t = 0; t < plan.taps; ++t) {
                    const int64_t m = bitsField(in.table, kbits0 + ((fl * plan.inPerGroup + ii) * plan.taps + t) * wb, wb);
                    kernel[size_t((ii * plan.taps + t) * int64_t(n)) + j] = effective(m, e);
                }
        }
        built.emplace_back(std::move(kernel));
    }
    if (cx.kernels)
        built = cx.kernels->insert(std::move(key), std::move(built));
    for (size_t g = 0; g < plan.groups.size(); ++g)
        plan.groups[g].kernel = built[g];
}

void buildConvPlan(const Context& cx, const target::PackageInput& in, const SliceInfo& si, const target::Slice& sl,
                   const target::ProjectionGeometry& g, SynapseBlock& b)
{
    const PopulationInfo& src = cx.prog.populations[size_t(b.srcPop)];
    const PopulationInfo& dst = cx.prog.populations[size_t(si.pop)];
    const target::Population sp = shapeOf(src), dp = shapeOf(dst);
    const std::vector<int64_t> dstPos = dp.positionShape();
    ConvPlan& plan = b.plan;
    plan.taps = g.taps();
    plan.inPerGroup = g.inFeatures / g.groups;
    const int64_t outPer = g.outFeatures / g.groups, F = sl.features();
    const auto srcToIn = inverse(g.inFeatureToSrc, src.shape.empty() ? 1 : sp.features());
    const auto posToIn = inverse(g.inPositionToSrc, sp.positions());
    const auto dstToOut = inverse(g.outFeatureToDst, dp.features());
    for (int32_t n : in.axonSource) {
        int64_t f, pos;
        sp.split(n, f, pos);
        plan.axonFeature.push_back(srcToIn[size_t(f)]);
        plan.axonPosition.push_back(posToIn[size_t(pos)]);
        if (plan.axonFeature.back() < 0 || plan.axonPosition.back() < 0)
            throw std::runtime_error("conv_shared axon source outside the projection geometry");
    }
    const int64_t inPositions = g.inPositions();
    plan.tapStart.push_back(0);
    for (int64_t p = 0; p < inPositions; ++p) {
        forEachOutputOf(g.axes, p, [&](int64_t tap, int64_t q) {
            const int64_t l = localIndex(sl, dstPos, sl.f0, g.outPositionToDst[size_t(q)]);
            if (l < 0)
                return;
            plan.tapTap.push_back(int32_t(tap));
            plan.tapBase.push_back(uint32_t(si.first + l));
        });
        plan.tapStart.push_back(int32_t(plan.tapTap.size()));
    }
    plan.groups.resize(size_t(g.groups));
    for (int64_t fl = 0; fl < F; ++fl) {
        const int64_t o = dstToOut[size_t(sl.f0 + fl)];
        plan.groups[size_t(o / outPer)].features.push_back(uint32_t(fl));
    }
    for (auto& grp : plan.groups) {
        const size_t n = grp.features.size();
        grp.contiguous = n == 0 || grp.features.back() - grp.features.front() + 1 == n;
    }
    decodeKernels(cx, in, F, plan);
    plan.bytesPerTap = (F / std::max<int64_t>(1, g.groups) * cx.pkg.weightBits + 7) / 8;
    for (size_t a = 0; a < plan.axonFeature.size(); ++a) {
        const int64_t i = plan.axonFeature[a], p = plan.axonPosition[a];
        plan.axons.push_back({int32_t(i / plan.inPerGroup), int32_t((i % plan.inPerGroup) * plan.taps),
                              plan.tapStart[size_t(p)], plan.tapStart[size_t(p) + 1]});
    }
    b.conv = true;
    // Structural synapses: each axon reaches its taps' targets x the group's features.
    for (size_t a = 0; a < plan.axonFeature.size(); ++a) {
        const int64_t p = plan.axonPosition[a];
        const int64_t gsize = int64_t(plan.groups[size_t(plan.axonFeature[a] / plan.inPerGroup)].features.size());
        b.structuralSynapses += (plan.tapStart[size_t(p) + 1] - plan.tapStart[size_t(p)]) * gsize;
    }
}

// Diagonal conv_shared (pooling, reductions): few synapses per axon, expanded.
void expandDiag(const Context& cx, const target::PackageInput& in, const SliceInfo& si, const target::Slice& sl,
                const target::ProjectionGeometry& g, SynapseBlock& b, std::vector<int32_t>& rows)
{
    const PopulationInfo& src = cx.prog.populations[size_t(b.srcPop)];
    const PopulationInfo& dst = cx.prog.populations[size_t(si.pop)];
    const target::Population dp = shapeOf(dst);
    const std::vector<int64_t> dstPos = dp.positionShape();
    const SourceElements& se = cx.diagSources[size_t(b.projection)];
    const std::vector<int32_t>&start = se.start, &elems = se.elems;
    if (start.size() != size_t(src.size + 1))
        throw std::runtime_error("diagonal conv_shared table without its projection's source map");
    int64_t innerIn = 1, innerOut = 1;
    for (size_t a = size_t(g.featureAxis) + 1; a < g.inShape.size(); ++a)
        innerIn *= g.inShape[a], innerOut *= g.outShape[a];
    const int64_t taps = g.taps(), wb = cx.pkg.weightBits, kbits0 = kernelStart(cx, in) * 8;
    std::vector<std::pair<uint32_t, int32_t>> syn;
    for (int32_t n : in.axonSource) {
        if (n < 0 || n >= src.size)
            throw std::runtime_error("conv_shared axon source outside the source population");
        syn.clear();
        for (int32_t k = start[size_t(n)]; k < start[size_t(n) + 1]; ++k) {
            const int64_t e = elems[size_t(k)];
            const int64_t o = (e / innerIn) % g.inFeatures, p = (e / (innerIn * g.inFeatures)) * innerIn + e % innerIn;
            forEachOutputOf(g.axes, p, [&](int64_t tap, int64_t q) {
                const int64_t outElem = (q / innerOut) * (innerOut * g.outFeatures) + o * innerOut + q % innerOut;
                const int32_t d = g.outElementToDst[size_t(outElem)];
                if (d < 0)
                    return;
                int64_t f, pos;
                dp.split(d, f, pos);
                const int64_t l = localIndex(sl, dstPos, f, pos);
                if (l < 0)
                    return;
                const int64_t fl = f - sl.f0;
                const int64_t m = bitsField(in.table, kbits0 + (fl * taps + tap) * wb, int(wb));
                syn.push_back({uint32_t(si.first + l), effective(m, in.exponentOf(fl, sl.features()))});
            });
        }
        appendRow(b, rows, syn, uint32_t(cx.convHeaderBytes + (int64_t(syn.size()) * wb + 7) / 8));
    }
}

// Population flat index of every slice-local neuron (Slice::neuronAt for
// l = 0 .. count - 1), walking the slice's positions in order instead of
// decomposing each index.
std::vector<int32_t> sliceNeurons(const target::Slice& sl, const target::Population& p, int64_t count)
{
    std::vector<int32_t> out(size_t(std::max<int64_t>(count, 0)));
    const std::vector<int64_t> ps = p.positionShape();
    const size_t rank = ps.size();
    const int64_t F = sl.features();
    if (sl.lo.size() < rank || sl.hi.size() < rank || F <= 0) {
        for (int64_t l = 0; l < count; ++l)
            out[size_t(l)] = int32_t(sl.neuronAt(p, l));
        return out;
    }
    std::vector<int64_t> c(sl.lo.begin(), sl.lo.begin() + ptrdiff_t(rank)), stride(rank, 1);
    for (size_t a = rank; a-- > 1;)
        stride[a - 1] = stride[a] * ps[a];
    for (int64_t l = 0; l < count;) {
        int64_t flat = 0;
        for (size_t a = 0; a < rank; ++a)
            flat += c[a] * stride[a];
        for (int64_t f = 0; f < F && l < count; ++f)
            out[size_t(l++)] = int32_t(p.neuronIndex(sl.f0 + f, flat));
        for (size_t a = rank; a-- > 0;) {
            if (++c[a] < sl.hi[a])
                break;
            c[a] = sl.lo[a];
        }
    }
    return out;
}

void buildCore(const Context& cx, const target::PackageCore& pc, const std::vector<std::vector<int32_t>>& incoming,
               CoreProgram& c)
{
    const SimProgram& prog = cx.prog;
    c.index = pc.index;
    c.coord = pc.coord;
    for (const target::Slice& sl : pc.slices) {
        if (sl.pop < 0 || sl.pop >= int32_t(prog.populations.size()))
            throw std::runtime_error("slice of an unknown population");
        SliceInfo si;
        si.pop = sl.pop;
        si.first = c.neurons;
        si.count = sl.neurons();
        si.features = sl.features();
        const target::Population p = shapeOf(prog.populations[size_t(sl.pop)]);
        si.popNeuron = sliceNeurons(sl, p, si.count);
        c.neurons += si.count;
        c.neuronSlice.insert(c.neuronSlice.end(), size_t(si.count), int32_t(c.slices.size()));
        c.slices.push_back(std::move(si));
    }
    if (int64_t(pc.bias.size()) != c.neurons)
        throw std::runtime_error("bias table has " + std::to_string(pc.bias.size()) + " entries for " +
                                 std::to_string(c.neurons) + " neurons");
    c.bias = pc.bias;
    for (const target::PackageInput& in : pc.inputs) {
        if (in.slice < 0 || size_t(in.slice) >= pc.slices.size() || in.projection < 0 ||
            size_t(in.projection) >= prog.projections.size())
            throw std::runtime_error("input refers to an unknown slice or projection");
        const target::PackageProjection& pr = prog.projections[size_t(in.projection)];
        const target::Slice& sl = pc.slices[size_t(in.slice)];
        const SliceInfo& si = c.slices[size_t(in.slice)];
        SynapseBlock b;
        b.slice = in.slice;
        b.projection = in.projection;
        b.srcPop = pr.src;
        b.dstPop = si.pop;
        b.fromInput = prog.populations[size_t(pr.src)].kind == NeuronKind::Input;
        b.delay = in.delay;
        b.lastSend = int32_t(prog.timesteps - 1 + prog.populations[size_t(si.pop)].phase - b.delay);
        b.encoding = in.encoding;
        b.axons = int64_t(in.axonSource.size());
        const auto& inc = incoming[size_t(si.pop)];
        // Products have two compartments (left, right operand); every other
        // neuron sums all its projections into one.
        if (prog.populations[size_t(si.pop)].kind == NeuronKind::Product) {
            const auto it = std::find(inc.begin(), inc.end(), in.projection);
            if (inc.size() != 2 || it == inc.end())
                throw std::runtime_error("product population " + prog.populations[size_t(si.pop)].name +
                                         " needs exactly two incoming projections, has " + std::to_string(inc.size()));
            b.compartment = it == inc.begin() ? 0 : 1;
        }
        std::vector<int32_t> rows;
        if (in.encoding != Encoding::ConvShared)
            decodeRowsInto(cx, in, si, sl, b, rows);
        else if (!pr.geometry)
            throw std::runtime_error("conv_shared table of " + pr.name + " without projection geometry");
        else if (pr.coupling == "full")
            buildConvPlan(cx, in, si, sl, *pr.geometry, b);
        else
            expandDiag(cx, in, si, sl, *pr.geometry, b, rows);
        b.unitRuns = !rows.empty();
        for (size_t a = 0; b.unitRuns && a < b.rowStart.size(); ++a) {
            const int32_t* r = rows.data() + b.rowStart[a];
            for (int32_t k = 0; b.unitRuns && k < r[0]; ++k)
                b.unitRuns = r[SynapseBlock::kRowHeader + (SynapseBlock::kRunHeader + 1) * k + 1] == 1;
        }
        if (!rows.empty())
            b.rows = cx.rows ? cx.rows->intern(std::move(rows)) : SharedArray<int32_t>(std::move(rows));
        b.unitRunsOf = b.rows.generation();
        c.maxDelay = std::max(c.maxDelay, b.delay);
        c.inputs.push_back(std::move(b));
    }
}

} // namespace

ProgramLoad buildProgram(const target::Package& pkg, int threads, bool share)
{
    ProgramLoad out;
    target::DescriptorLoad d = target::parseChipDescriptor(pkg.chipDescriptorJson, pkg.chipId + " (in package)");
    if (!d.chip) {
        out.error = "chip descriptor in the package: " + d.diagnostics.format();
        return out;
    }
    SimProgram prog;
    prog.model = pkg.model;
    prog.chipId = pkg.chipId;
    prog.chipName = pkg.chipName;
    prog.projectedChip = pkg.projectedChip;
    prog.projectionNote = pkg.projectionNote;
    prog.fromQuantizedModule = pkg.fromQuantizedModule;
    prog.timesteps = pkg.timesteps;
    prog.depth = pkg.depth;
    prog.scheduleMode = pkg.scheduleMode;
    prog.weightBits = pkg.weightBits;
    prog.chipsUsed = pkg.chipsUsed;
    prog.chip = std::move(*d.chip);
    prog.projections = pkg.projections;
    for (size_t i = 0; i < pkg.populations.size(); ++i) {
        const target::PackagePopulation& q = pkg.populations[i];
        PopulationInfo p;
        p.name = q.name;
        p.origin = q.origin;
        p.model = q.model;
        p.phase = q.phase;
        p.shape = q.shape;
        p.featureAxis = q.featureAxis;
        p.size = ir::numElements(q.shape);
        p.firstId = prog.totalNeurons;
        prog.totalNeurons += p.size;
        p.valueScale = q.valueScale;
        p.outputScale = q.outputScale;
        p.perStepOutput = q.perStepOutput;
        p.biasOnce = q.biasOnce;
        p.inputScale = q.inputScale;
        p.inputLo = q.inputLo;
        p.inputHi = q.inputHi;
        p.neuron.du = q.du;
        p.neuron.dv = q.dv;
        p.neuron.actShift = q.actShift;
        p.neuron.theta = q.theta;
        p.neuron.fireOnEqual = q.fireOnEqual;
        p.neuron.reset = fixedpoint::resetFromName(q.reset);
        if (q.kind == "input")
            p.kind = NeuronKind::Input;
        else if (q.kind == "lif") {
            p.kind = NeuronKind::Lif;
            p.membraneOut = q.spikeBits > 1; // a membrane readout (graded spikes of the charged membrane)
        }
        else if (q.kind == "relay")
            p.kind = q.spikeBits == 1 ? NeuronKind::RelayOr : NeuronKind::RelayGraded;
        else if (q.kind == "product")
            p.kind = NeuronKind::Product;
        else if (q.kind == "readout")
            p.kind = NeuronKind::Readout;
        else {
            out.error = "population " + q.name + " has unknown kind '" + q.kind + "'";
            return out;
        }
        if (p.kind == NeuronKind::Input)
            prog.inputPops.push_back(int32_t(i));
        if (p.kind == NeuronKind::Readout)
            prog.readoutPops.push_back(int32_t(i));
        prog.populations.push_back(std::move(p));
    }
    std::vector<std::vector<int32_t>> incoming(prog.populations.size());
    for (size_t j = 0; j < pkg.projections.size(); ++j) {
        const auto& pr = pkg.projections[j];
        if (pr.src < 0 || pr.dst < 0 || size_t(pr.src) >= prog.populations.size() ||
            size_t(pr.dst) >= prog.populations.size()) {
            out.error = "projection " + pr.name + " refers to an unknown population";
            return out;
        }
        incoming[size_t(pr.dst)].push_back(int32_t(j));
    }
    const target::SynapseEncoding* sparse = prog.chip.encoding("sparse");
    const target::SynapseEncoding* conv = prog.chip.encoding("conv_shared");
    KernelCache kernels;
    RowCache rows;
    Context cx{pkg,
               prog,
               sparse ? int(sparse->indexBits) : 0,
               conv ? int(conv->rowHeaderBytes) : 4,
               {},
               share ? &kernels : nullptr,
               share ? &rows : nullptr};
    cx.diagSources.resize(pkg.projections.size());
    for (size_t j = 0; j < pkg.projections.size(); ++j) {
        const auto& pr = pkg.projections[j];
        if (pr.geometry && pr.coupling != "full") {
            try {
                cx.diagSources[j] = sourceElements(*pr.geometry, prog.populations[size_t(pr.src)].size);
            } catch (const std::exception& e) {
                out.error = "projection " + pr.name + ": " + e.what();
                return out;
            }
        }
    }
    // Cores are independent: built on `threads` threads, each taking the next
    // unbuilt core. The first failing core (lowest index) is reported, as a
    // serial build would.
    prog.cores.resize(pkg.cores.size());
    std::vector<std::string> errors(pkg.cores.size());
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    auto work = [&] {
        for (size_t k; !failed.load(std::memory_order_relaxed) && (k = next.fetch_add(1)) < pkg.cores.size();) {
            try {
                buildCore(cx, pkg.cores[k], incoming, prog.cores[k]);
            } catch (const std::exception& e) {
                errors[k] = "core " + std::to_string(k) + ": " + e.what();
                failed = true;
            }
        }
    };
    if (threads < 1)
        threads = int(std::max(1u, std::thread::hardware_concurrency()));
    threads = int(std::min<size_t>(size_t(threads), std::max<size_t>(1, pkg.cores.size())));
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t)
        pool.emplace_back(work);
    work();
    for (auto& t : pool)
        t.join();
    for (const std::string& e : errors)
        if (!e.empty()) {
            out.error = e;
            return out;
        }
    // Routes with their mesh paths, resolved once per (source, destination) core pair.
    const target::BoardLayout board = target::makeBoardLayout(prog.chip, std::max(1, pkg.chipsRequested));
    const target::EventCosts& lat = prog.chip.latencyNs;
    // paths[d]: the path from the current core to core d, valid when pathOf[d] == the current core.
    std::vector<RouteHop> paths(pkg.cores.size());
    std::vector<int64_t> pathOf(pkg.cores.size(), -1);
    for (size_t k = 0; k < pkg.cores.size(); ++k) {
        CoreProgram& c = prog.cores[k];
        std::vector<uint32_t> routeStart(size_t(c.neurons + 1), 0);
        std::vector<RouteHop> routes;
        routes.reserve(pkg.cores[k].routes.size());
        for (const target::RouteEntry& r : pkg.cores[k].routes) {
            if (r.localNeuron < 0 || r.localNeuron >= c.neurons || r.destCore < 0 ||
                size_t(r.destCore) >= prog.cores.size() ||
                size_t(r.destInput) >= prog.cores[size_t(r.destCore)].inputs.size() ||
                r.destAxon >= prog.cores[size_t(r.destCore)].inputs[size_t(r.destInput)].axons) {
                out.error = "core " + std::to_string(k) + ": route to a missing core, input or axon";
                return out;
            }
            RouteHop& path = paths[size_t(r.destCore)];
            if (pathOf[size_t(r.destCore)] != int64_t(k)) {
                pathOf[size_t(r.destCore)] = int64_t(k);
                target::Route route;
                if (!target::routeBetween(prog.chip, board, c.coord, prog.cores[size_t(r.destCore)].coord, route)) {
                    out.error = "no mesh path from core " + std::to_string(k) + " to core " + std::to_string(r.destCore);
                    return out;
                }
                path.hopsEw = uint16_t(route.hopsEw);
                path.hopsNs = uint16_t(route.hopsNs);
                path.chipLinks = uint16_t(route.chipLinks);
                path.latencyNs = float(route.hopsEw * lat.hopEw + route.hopsNs * lat.hopNs +
                                             route.chipLinks * lat.chipLink + lat.spikeWithinTile);
            }
            RouteHop h = path;
            h.destCore = r.destCore;
            h.destInput = r.destInput;
            h.destAxon = r.destAxon;
            const SynapseBlock& b = prog.cores[size_t(r.destCore)].inputs[size_t(r.destInput)];
            h.entry = b.conv ? uint32_t(r.destAxon) : b.rowStart[size_t(r.destAxon)];
            routes.push_back(h);
            ++routeStart[size_t(r.localNeuron) + 1];
        }
        for (size_t n = 1; n < routeStart.size(); ++n)
            routeStart[n] += routeStart[n - 1];
        c.routeStart = std::move(routeStart);
        c.routes = std::move(routes);
    }
    narrowKernels(prog);
    out.program = std::move(prog);
    return out;
}

ProgramLoad loadProgram(const std::string& packageDir, int threads)
{
    std::string err;
    auto pkg = target::readPackage(packageDir, &err);
    if (!pkg) {
        ProgramLoad out;
        out.error = err;
        return out;
    }
    return buildProgram(*pkg, threads);
}

} // namespace stc::sim
