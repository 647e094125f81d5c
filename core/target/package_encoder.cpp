// The per-core part of buildPackage: slices, biases and synapse tables
// (package_encoder.h).
#include "target/package_encoder.h"

#include "target/slice_analysis.h"

#include <cstring>
#include <stdexcept>

namespace stc::target::detail {

namespace {

class BitWriter {
public:
    explicit BitWriter(std::vector<uint8_t>& out) : out_(out) {}
    ~BitWriter() { flush(); }
    // The low `bits` (<= 32) of value, least significant first, filling each byte from its low bit.
    void put(uint64_t value, int bits)
    {
        acc_ |= (value & ((uint64_t{1} << bits) - 1)) << used_;
        used_ += bits;
        for (; used_ >= 8; used_ -= 8, acc_ >>= 8)
            out_.push_back(uint8_t(acc_));
    }
    void u16(uint32_t v)
    {
        flush();
        out_.push_back(uint8_t(v & 0xff));
        out_.push_back(uint8_t(v >> 8));
    }
    // Pads the last byte with zero bits; the next put starts a new byte.
    void flush()
    {
        if (used_ > 0)
            out_.push_back(uint8_t(acc_));
        acc_ = 0;
        used_ = 0;
    }

private:
    std::vector<uint8_t>& out_;
    uint64_t acc_ = 0; // bits not yet in out_ (fewer than 8 between calls)
    int used_ = 0;
};

// Diag conv_shared kernels are stored per destination slice feature; a view
// between the op and the population can make that differ from the op's
// output feature. Returns, per slice feature, the op output feature whose
// kernel row it uses, and refuses features fed by op features with
// different rows.
std::vector<int64_t> diagOpFeatures(const Projection& pr, const Population& dp, const Slice& sl,
                                    const std::vector<int64_t>& neurons)
{
    int64_t innerOut = 1;
    for (size_t a = size_t(pr.featureAxis) + 1; a < pr.outShape.size(); ++a)
        innerOut *= pr.outShape[a];
    const int64_t taps = pr.taps();
    std::vector<int64_t> op(size_t(sl.features()), -1);
    for (int64_t l = 0; l < sl.neurons(); ++l) {
        const int64_t n = neurons[size_t(l)];
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

// The largest |w| and whether every w is an integer, in one branch-free pass
// over the bit patterns (vectorizes; a float max reduction would not without
// fast-math). For floats that are not NaN, |w|'s bits order like |w|; a NaN
// gives a NaN maximum, which the exact check in targetExponent rejects.
// |w| is clamped to 2^30 before the int32 round trip: every float that large
// is an integer, and the conversion stays in range.
__attribute__((target_clones("avx2", "default"))) float maxAbsIntegral(const float* w, size_t n, bool& integral)
{
    int32_t mxBits = 0;
    int32_t all = 1;
    for (size_t i = 0; i < n; ++i) {
        int32_t bits;
        std::memcpy(&bits, w + i, sizeof bits);
        const int32_t ab = bits & 0x7fffffff;
        mxBits = ab > mxBits ? ab : mxBits;
        const int32_t cb = ab < 0x4e800000 ? ab : 0x4e800000; // bits of 2^30
        float c;
        std::memcpy(&c, &cb, sizeof c);
        all &= float(int32_t(c)) == c;
    }
    integral = all != 0;
    float mx;
    std::memcpy(&mx, &mxBits, sizeof mx);
    return mx;
}

// Whether the few weights of a short row are integers within qmax (then e = 0)
// without a call: the attention products' rows hold one synapse each, and
// there are tens of millions of them. qmax <= 2^24 is exact in float and a
// |w| <= qmax converts to int32 exactly; NaN fails the first test.
inline bool smallRowNeedsNoExponent(const float* w, size_t n, int64_t qmax)
{
    const float q = float(qmax);
    bool ok = true;
    for (size_t i = 0; i < n; ++i) {
        const float a = std::fabs(w[i]);
        ok = ok && a <= q && float(int32_t(a)) == a;
    }
    return ok;
}

int targetExponentSlow(const float* w, size_t n, int64_t qmax, const std::string& what)
{
    // One pass for the common case: every weight an integer within qmax (e = 0).
    bool integral = true;
    const float mxf = maxAbsIntegral(w, n, integral);
    const double mx = double(mxf); // |w| and their maximum are exact in float
    if (integral && mx <= double(qmax))
        return 0;
    int e = 0;
    if (mx > double(qmax)) // ldexp(qmax, 0) == qmax: most targets need no exponent
        while (mx > std::ldexp(double(qmax), e))
            ++e;
    const double inv = inversePow2(e);
    for (size_t i = 0; i < n; ++i) {
        const double m = scaleDown(double(w[i]), e, inv);
        if (m != std::trunc(m))
            throw std::runtime_error(what + ": weight " + std::to_string(w[i]) +
                                     " is not a " + std::to_string(qmax) + "-bounded mantissa times 2^" +
                                     std::to_string(e) + " (quantize with at most the chip's weight bits)");
    }
    return e;
}

inline int targetExponent(const float* w, size_t n, int64_t qmax, const std::string& what)
{
    if (n <= 4 && qmax <= (int64_t{1} << 24) && smallRowNeedsNoExponent(w, n, qmax))
        return 0;
    return targetExponentSlow(w, n, qmax, what);
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

// Population neuron of every slice-local index of `s` (position-major,
// feature-minor), into `out`.
void sliceNeurons(const Population& p, const ir::Shape& posShape, const Slice& s, std::vector<int64_t>& out)
{
    out.clear();
    forEachSlicePosition(posShape, s, [&](int64_t flat) {
        for (int64_t f = s.f0; f < s.f1; ++f)
            out.push_back(p.neuronIndex(f, flat));
    });
}

} // namespace

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

KernelRows kernelRows(const Projection& pr, const Quantizer& q)
{
    KernelRows k;
    const int64_t per = pr.coupling == Coupling::Full ? pr.inPerGroup() : 1, taps = pr.taps();
    k.rowLength = per * taps;
    k.exponent.assign(size_t(pr.outFeatures), 0);
    k.error.resize(size_t(pr.outFeatures));
    k.mantissa.resize(size_t(pr.outFeatures * k.rowLength));
    std::vector<float> syn;
    for (int64_t o = 0; o < pr.outFeatures; ++o) {
        syn.clear();
        for (int64_t ii = 0; ii < per; ++ii)
            for (int64_t t = 0; t < taps; ++t)
                syn.push_back(pr.weight(o, ii, t));
        int e = 0;
        if (q.integer) {
            try {
                e = targetExponent(syn.data(), syn.size(), q.qmaxInt, pr.name);
            } catch (const std::runtime_error& err) {
                k.error[size_t(o)] = err.what();
                continue;
            }
        }
        k.exponent[size_t(o)] = uint8_t(e);
        const double inv = inversePow2(e);
        int32_t* m = k.mantissa.data() + o * k.rowLength;
        for (size_t j = 0; j < syn.size(); ++j)
            m[j] = q.mantissa(pr, syn[j], e, inv);
    }
    return k;
}

class CoreEncoder::Impl {
public:
    Impl(const Network& net, const Mapping& m, const ChipDescriptor& chip, const Quantizer& q,
                const std::vector<ir::Shape>& posShapes, const std::vector<KernelRows>& kernels)
        : net_(net), m_(m), q_(q), posShapes_(posShapes), kernels_(kernels), an_(net, chip),
          wb_(int(chip.limits.weightBits)), sparse_(chip.encoding("sparse"))
    {
        size_t maxPop = 0;
        for (const auto& p : net.populations)
            maxPop = std::max(maxPop, size_t(p.size()));
        mark_.assign(maxPop, 0);
        slot_.assign(maxPop, 0);
    }

    void encode(size_t ci, PackageCore& pc)
    {
        const CoreAssignment& ca = m_.cores[ci];
        pc.index = int32_t(ci);
        for (size_t k = 0; k < ca.slices.size(); ++k) {
            const int32_t s = ca.slices[k];
            const Slice& sl = m_.slices[size_t(s)];
            const Population& dp = net_.populations[size_t(sl.pop)];
            pc.slices.push_back(sl);
            sliceNeurons(dp, posShapes_[size_t(sl.pop)], sl, neurons_);
            for (int64_t n : neurons_) {
                const double b = dp.bias.empty() ? 0.0 : dp.bias[size_t(n)];
                if (q_.integer && (b != std::trunc(b) || std::fabs(b) > 2147483647.0))
                    throw std::runtime_error("bias " + std::to_string(b) + " of %" + dp.name + " is not an int32");
                pc.bias.push_back(q_.integer ? int32_t(b) : int32_t(std::llround(b / q_.unit[size_t(sl.pop)])));
            }
            const auto& inputs = m_.sliceInputs[size_t(s)];
            for (size_t j = 0; j < inputs.size(); ++j) {
                const SliceInput& si = inputs[j];
                const Projection& pr = net_.projections[size_t(si.projection)];
                PackageInput in;
                in.slice = int32_t(k);
                in.projection = si.projection;
                in.encoding = si.encoding;
                in.delay = pr.delay;
                in.table.reserve(size_t(std::max<int64_t>(0, si.bytes)));
                if (si.encoding == Encoding::ConvShared)
                    encodeShared(sl, si, in, storedAxons(size_t(s), j));
                else
                    encodeRows(sl, si, in);
                if (int64_t(in.table.size()) != si.bytes)
                    throw std::logic_error("synapse table of " + pr.name + " into a slice of %" + dp.name + " is " +
                                           std::to_string(in.table.size()) + " bytes, the mapper counted " +
                                           std::to_string(si.bytes));
                pc.inputs.push_back(std::move(in));
            }
        }
    }

private:
    // Axon headers (source feature, position), then one kernel per slice feature.
    // The partition's axon list of input j of slice s, if the mapping kept it.
    const std::vector<int32_t>* storedAxons(size_t s, size_t j) const
    {
        if (s >= m_.sliceAxons.size() || j >= m_.sliceAxons[s].size())
            return nullptr;
        return m_.sliceAxons[s][j].get();
    }

    void encodeShared(const Slice& sl, const SliceInput& si, PackageInput& in, const std::vector<int32_t>* stored)
    {
        const Projection& pr = net_.projections[size_t(si.projection)];
        const Population& sp = net_.populations[size_t(pr.src)];
        const Population& dp = net_.populations[size_t(sl.pop)];
        // 4 bytes an axon, little-endian u16 source feature and position.
        auto headers = [&](const auto& axons) {
            const size_t n = axons.size();
            in.axonSource.resize(n);
            in.rowOffset.resize(n);
            in.table.resize(4 * n);
            uint8_t* t = in.table.data();
            for (size_t k = 0; k < n; ++k) {
                const int64_t src = axons[k];
                int64_t f, pos;
                sp.split(src, f, pos);
                in.axonSource[k] = int32_t(src);
                in.rowOffset[k] = uint32_t(4 * k);
                const uint16_t fv = checked16(f, "source feature"), pv = checked16(pos, "source position");
                t[4 * k] = uint8_t(fv & 0xff);
                t[4 * k + 1] = uint8_t(fv >> 8);
                t[4 * k + 2] = uint8_t(pv & 0xff);
                t[4 * k + 3] = uint8_t(pv >> 8);
            }
        };
        if (stored) {
            headers(*stored);
        } else {
            an_.collectAxons(sl, si.projection, axons_);
            headers(axons_);
        }
        BitWriter bw(in.table);
        // Kernel: slice output features x inputs per group x taps (rows from kernels_).
        std::vector<uint8_t> exps;
        const std::vector<int64_t> diagOp =
            pr.coupling == Coupling::Full ? std::vector<int64_t>{} : diagOpFeatures(pr, dp, sl, neurons_);
        const KernelRows& rows = kernels_[size_t(si.projection)];
        const size_t len = size_t(rows.rowLength);
        for (int64_t f = sl.f0; f < sl.f1; ++f) {
            const int64_t o = pr.coupling == Coupling::Full ? pr.dstFeatureToOut[size_t(f)] : diagOp[size_t(f - sl.f0)];
            if (!rows.error[size_t(o)].empty())
                throw std::runtime_error(rows.error[size_t(o)]);
            exps.push_back(rows.exponent[size_t(o)]);
            const int32_t* m = rows.mantissa.data() + size_t(o) * len;
            if (wb_ == 8) { // BitWriter::put's byte-aligned path: the low byte of each mantissa
                in.table.insert(in.table.end(), m, m + len);
            } else {
                for (size_t j = 0; j < len; ++j)
                    bw.put(uint64_t(uint32_t(m[j])), wb_);
            }
        }
        bw.flush();
        in.exponent = compressExponents(exps, std::vector<char>(exps.size(), 1), sl.features());
    }

    // Dense or sparse rows, one per axon (source neuron in order of first
    // use), holding its synapses in slice-local target order.
    void encodeRows(const Slice& sl, const SliceInput& si, PackageInput& in)
    {
        const Projection& pr = net_.projections[size_t(si.projection)];
        const Population& sp = net_.populations[size_t(pr.src)];
        const Population& dp = net_.populations[size_t(sl.pop)];
        if (++generation_ == 0) {
            std::fill(mark_.begin(), mark_.end(), 0);
            generation_ = 1;
        }
        const int64_t nl = int64_t(neurons_.size());
        std::vector<uint8_t> exps(size_t(nl), 0);
        std::vector<char> has(size_t(nl), 0);
        size_t count = 0; // entries_[0, count) are this input's synapses
        // One target's synapses (source neurons, len of them) of exponent e:
        // axon slots and mantissas (mantissaOf(k) of synapse k).
        auto addSynapses = [&](int64_t l, const auto* src, size_t len, int e, auto&& mantissaOf) {
            exps[size_t(l)] = uint8_t(e);
            has[size_t(l)] = len > 0;
            if (entries_.size() < count + len)
                entries_.resize(std::max(2 * entries_.size(), count + len));
            Entry* out = entries_.data() + count;
            uint32_t* mark = mark_.data();
            int32_t* slot = slot_.data();
            for (size_t k = 0; k < len; ++k) {
                const size_t sn = size_t(src[k]);
                if (mark[sn] != generation_) {
                    mark[sn] = generation_;
                    slot[sn] = int32_t(in.axonSource.size());
                    in.axonSource.push_back(int32_t(sn));
                }
                out[k] = {slot[sn], int32_t(l), mantissaOf(k)};
            }
            count += len;
        };
        // The same from the synapses' weights: the exponent is the target's.
        auto addTarget = [&](int64_t l, const auto* src, const float* w, size_t len) {
            const int e = q_.integer ? targetExponent(w, len, q_.qmaxInt, pr.name) : 0;
            const double inv = inversePow2(e);
            addSynapses(l, src, len, e, [&](size_t k) { return q_.mantissa(pr, w[k], e, inv); });
        };
        if (pr.coupling == Coupling::Explicit && pr.sharedWeight) {
            // One weight for every synapse: every target's exponent and
            // mantissa are those of a row holding only that weight, computed
            // once (at the first target with synapses, where a per-target
            // computation would throw first).
            // The slice's rows lie strided (a cache line each when the
            // features of a position are far apart): compact rows 16 targets
            // ahead are prefetched, as in the slice analysis.
            const float w = pr.weights[0];
            int e = -1;
            int32_t m = 0;
            const int32_t* srcNeuron = pr.srcNeuron.data();
            for (int64_t l = 0; l < nl; ++l) {
                if (pr.rowLength > 0 && l + 16 < nl)
                    __builtin_prefetch(srcNeuron + neurons_[size_t(l + 16)] * pr.rowLength);
                const int64_t n = neurons_[size_t(l)], b = pr.rowBegin(n), len = pr.rowEnd(n) - b;
                if (len > 0 && e < 0) {
                    e = q_.integer ? targetExponent(&w, 1, q_.qmaxInt, pr.name) : 0;
                    m = q_.mantissa(pr, w, e);
                }
                addSynapses(l, srcNeuron + b, size_t(len), len > 0 ? e : 0, [m](size_t) { return m; });
            }
        } else {
            for (int64_t l = 0; l < nl; ++l) {
                const int64_t n = neurons_[size_t(l)];
                if (pr.coupling == Coupling::Explicit) { // the row as it is stored (either form)
                    const int64_t b = pr.rowBegin(n), e = pr.rowEnd(n);
                    addTarget(l, pr.srcNeuron.data() + b, pr.weights.data() + b, size_t(e - b));
                    continue;
                }
                synSrc_.clear();
                synW_.clear();
                forEachSynapseOf(pr, sp, dp, n, [&](int64_t src, float w) {
                    synSrc_.push_back(src);
                    synW_.push_back(w);
                });
                addTarget(l, synSrc_.data(), synW_.data(), synW_.size());
            }
        }
        in.exponent = compressExponents(exps, has, sl.features());
        // Group the synapses by axon (counting sort, stable: targets stay ascending).
        const size_t axons = in.axonSource.size();
        rowStart_.assign(axons + 1, 0);
        for (size_t k = 0; k < count; ++k)
            ++rowStart_[size_t(entries_[k].axon) + 1];
        for (size_t a = 0; a < axons; ++a)
            rowStart_[a + 1] += rowStart_[a];
        if (sorted_.size() < count)
            sorted_.resize(count);
        {
            std::vector<uint32_t>& next = fill_;
            next.assign(rowStart_.begin(), rowStart_.end() - 1);
            for (size_t k = 0; k < count; ++k)
                sorted_[next[size_t(entries_[k].axon)]++] = entries_[k];
        }
        const int64_t F = sl.features();
        BitWriter bw(in.table);
        in.rowOffset.reserve(axons);
        for (size_t a = 0; a < axons; ++a) {
            const Entry* row = sorted_.data() + rowStart_[a];
            const size_t len = rowStart_[a + 1] - rowStart_[a];
            in.rowOffset.push_back(uint32_t(in.table.size()));
            if (si.encoding == Encoding::Dense) {
                // A run: consecutive slice-local targets within one target position.
                auto runEnd = [&](size_t b) {
                    // Targets ascend, so "same position as row[b]" is "below the next position's first".
                    const int64_t positionEnd = (row[b].local / F + 1) * F;
                    size_t e = b + 1;
                    while (e < len && row[e].local == row[e - 1].local + 1 && row[e].local < positionEnd)
                        ++e;
                    return e;
                };
                int64_t runs = 0;
                for (size_t b = 0; b < len; b = runEnd(b))
                    ++runs;
                bw.u16(checked16(runs, "run count"));
                for (size_t b = 0; b < len;) {
                    const size_t e = runEnd(b);
                    bw.u16(checked16(row[b].local, "run start"));
                    bw.u16(checked16(int64_t(e - b), "run length"));
                    if (wb_ == 8) { // BitWriter::put's whole-byte path, one resize per run
                        const size_t at = in.table.size();
                        in.table.resize(at + (e - b));
                        for (size_t k = b; k < e; ++k)
                            in.table[at + (k - b)] = uint8_t(row[k].mantissa);
                    } else {
                        for (size_t k = b; k < e; ++k)
                            bw.put(uint64_t(uint32_t(row[k].mantissa)), wb_);
                    }
                    bw.flush();
                    b = e;
                }
            } else {
                int64_t nnz = 0;
                for (size_t k = 0; k < len; ++k)
                    nnz += row[k].mantissa != 0 ? 1 : 0;
                bw.u16(checked16(nnz, "entry count"));
                bw.u16(0);
                for (size_t k = 0; k < len; ++k)
                    if (row[k].mantissa != 0) {
                        bw.put(uint64_t(uint32_t(row[k].mantissa)), wb_);
                        bw.put(uint64_t(row[k].local), int(sparse_->indexBits));
                    }
                bw.flush();
            }
        }
    }

    struct Entry {
        int32_t axon, local, mantissa;
    };
    const Network& net_;
    const Mapping& m_;
    const Quantizer& q_;
    const std::vector<ir::Shape>& posShapes_;
    const std::vector<KernelRows>& kernels_; // per projection (filled for shared inputs)
    SliceAnalyzer an_;
    const int wb_;
    const SynapseEncoding* sparse_;
    // Scratch reused across slices: axon slot of a source neuron (valid
    // where mark_ == generation_), synapses, rows.
    std::vector<uint32_t> mark_;
    std::vector<int32_t> slot_;
    uint32_t generation_ = 0;
    std::vector<int64_t> neurons_, axons_;
    std::vector<int64_t> synSrc_;
    std::vector<float> synW_;
    std::vector<Entry> entries_, sorted_; // entries_ grows, only its first `count` are used
    std::vector<uint32_t> rowStart_, fill_;
};

CoreEncoder::CoreEncoder(const Network& net, const Mapping& m, const ChipDescriptor& chip, const Quantizer& q,
                         const std::vector<ir::Shape>& posShapes, const std::vector<KernelRows>& kernels)
    : impl_(std::make_unique<Impl>(net, m, chip, q, posShapes, kernels))
{
}

CoreEncoder::~CoreEncoder() = default;

void CoreEncoder::encode(size_t ci, PackageCore& pc)
{
    impl_->encode(ci, pc);
}

} // namespace stc::target::detail
