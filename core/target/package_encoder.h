// Internal to core/target: the per-core part of buildPackage (slices,
// biases, synapse tables), used by buildPackage and by the encoding that runs
// while placement anneals (PackageDraftJob, package_build.cpp).
#pragma once

#include "target/mapping.h"
#include "target/network.h"
#include "target/package.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace stc::target::detail {

// The exponent e of one target's integer weights: the smallest e >= 0 with
// every weight = m << e and |m| <= qmax. For a layer of the quantize pass
// this is its per-channel shift (the channel's largest mantissa is >= qmax/2).
// 2^-e: multiplying by it is exactly ldexp(x, -e) for the float weights here
// (power-of-two scaling of a float-sized value stays a normal double).
inline double inversePow2(int e)
{
    return e == 0 ? 1.0 : e <= 1000 ? std::ldexp(1.0, -e) : 0.0;
}

inline double scaleDown(double x, int e, double inv)
{
    return e <= 1000 ? x * inv : std::ldexp(x, -e);
}

// Weight mantissas. Float mode: the backend's own quantization. Integer mode:
// the exact weight is mantissa << exponent (exponent per target, see
// targetExponent).
struct Quantizer {
    bool integer = false;
    int64_t qmaxInt = 127;
    std::vector<double> valueScale, unit; // per population (float mode)
    int32_t mantissa(const Projection& pr, float w, int e) const { return mantissa(pr, w, e, inversePow2(e)); }
    // The same with inv = inversePow2(e), hoisted out of loops over one target's synapses.
    int32_t mantissa(const Projection& pr, float w, int e, double inv) const
    {
        if (integer)
            return int32_t(scaleDown(double(w), e, inv));
        const double v = double(w) * valueScale[size_t(pr.src)] / unit[size_t(pr.dst)];
        const long long q = qmaxInt;
        return int32_t(std::clamp(std::llround(v), -q, q));
    }
};

// Quantized kernel rows of a projection with shared (conv_shared) inputs, one
// per op output feature o: the exponent and the mantissas of weight(o, ii, t)
// (ii < per, t < taps). Every slice using o stores the same row, so it is
// computed once per projection instead of once per core. An exponent error
// is kept and thrown by the core that uses the row, as before.
struct KernelRows {
    int64_t rowLength = 0;
    std::vector<uint8_t> exponent;
    std::vector<int32_t> mantissa; // [o][rowLength]
    std::vector<std::string> error;
};

KernelRows kernelRows(const Projection& pr, const Quantizer& q);

ProjectionGeometry geometryOf(const Projection& pr);

// Encodes cores (slices, biases, synapse tables; not the coordinates, which
// placement decides); one per thread, as it keeps scratch buffers sized for
// the largest population.
class CoreEncoder {
public:
    CoreEncoder(const Network& net, const Mapping& m, const ChipDescriptor& chip, const Quantizer& q,
                const std::vector<ir::Shape>& posShapes, const std::vector<KernelRows>& kernels);
    ~CoreEncoder();
    CoreEncoder(const CoreEncoder&) = delete;
    CoreEncoder& operator=(const CoreEncoder&) = delete;
    // Core ci of the mapping into pc (pc.coord is left alone).
    void encode(size_t ci, PackageCore& pc);

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace stc::target::detail

namespace stc::target {

// A mapping's package encoded ahead of buildPackage: everything but the core
// coordinates and the summary fields, which depend on placement. Kept in
// Mapping::packageDraft; the first buildPackage of the same network, chip and
// partition takes it (builtFor guards a mapping edited since).
class PackageDraft {
public:
    bool builtFor(const Network& net, const Mapping& m, const ChipDescriptor& chip) const;
    // The package, once (later calls: nothing); rethrows the encoding's error.
    std::optional<Package> take();

private:
    friend class PackageDraftJob;
    const Network* net_ = nullptr;
    std::string chipId_;
    int64_t weightBits_ = 0;
    std::vector<Slice> slices_;
    std::vector<std::vector<SliceInput>> sliceInputs_;
    std::vector<std::vector<int32_t>> coreSlices_;
    std::mutex mutex_;
    std::optional<Package> pkg_;
    std::exception_ptr error_;
};

// Encodes a partitioned mapping's package on a thread of its own from
// construction on (placement anneals meanwhile on the caller's thread), then
// finish() joins in with the host threads and builds the routes. The network
// and the mapping's partition (slices, cores' slice lists, slice inputs) must
// stay unchanged until finish() or destruction; placement may set the cores'
// coordinates and the neuron locator meanwhile.
class PackageDraftJob {
public:
    PackageDraftJob(const Network& net, const Mapping& m, const ChipDescriptor& chip);
    ~PackageDraftJob(); // stops claiming cores and joins when finish() was not called
    PackageDraftJob(const PackageDraftJob&) = delete;
    PackageDraftJob& operator=(const PackageDraftJob&) = delete;
    // `threads` < 1: every host thread. Never throws: an error is kept in the draft.
    std::shared_ptr<PackageDraft> finish(int threads, const Mapping& m);

private:
    struct State;
    std::unique_ptr<State> state_;
    std::shared_ptr<PackageDraft> draft_;
    std::future<void> prepared_;
    std::thread thread_;
};

} // namespace stc::target
