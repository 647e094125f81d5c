// Deployment package: what a chip (or core/sim) needs to run a mapped network
// bit-accurately, as a directory (docs/package-format.md):
//   manifest.json     model, chip (descriptor embedded), pipeline, schedule,
//                     fixed-point parameters, per-core assignment, resources
//   cores.bin         per-core configurations, one blob per core (byte range in
//                     the manifest): slices, neuron biases, synapse tables in
//                     the chip's encodings, routing table
//   listing.txt       human-readable summary
// buildPackage() encodes, writePackage()/readPackage() store and load; a
// written and re-read package compares equal (round trip exact).
#pragma once

#include "target/cost_model.h"
#include "target/mapping.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace stc::target {

// Version 3: every core blob (blob version 3, run-coded) in one file,
// cores.bin; readers also read versions 2 and 1 (a file per core).
inline constexpr const char* kPackageFormat = "stc.package/3";

// Fixed-point neuron parameters (semantics of fixedpoint/arith.h).
struct PackagePopulation {
    std::string name, kind, model, origin;
    std::vector<int64_t> shape;
    int featureAxis = 0;
    int spikeBits = 1;
    int phase = 0;
    int32_t du = 4096, dv = 0, actShift = 0;
    int64_t theta = 0;
    bool fireOnEqual = true;
    std::string reset = "hard";
    double unit = 1.0;        // real value of one integer step of the input current
    double valueScale = 1.0;  // real value of one integer step of the output (graded, readout)
    double outputScale = 1.0; // readouts: extra host factor (1/T for a mean over time)
    bool perStepOutput = false; // readouts: the host reads the value every step instead of the sum
    bool biasOnce = false;      // readouts of a time average (quantized): bias added at model step 0 only
    // Input populations: host encoding x = clamp(round(p / inputScale), inputLo, inputHi)
    // (fixedpoint::encodeInput); 8-bit graded spikes of pixels by default.
    double inputScale = 1.0;
    int64_t inputLo = 0, inputHi = 255;
    friend bool operator==(const PackagePopulation&, const PackagePopulation&) = default;
};

// Projection geometry (target::Projection in op coordinates), stored for
// projections with conv_shared inputs: their synapses follow from it.
struct ProjectionGeometry {
    int featureAxis = 0;
    std::vector<int64_t> inShape, outShape;
    int64_t inFeatures = 1, outFeatures = 1, groups = 1;
    std::vector<StencilAxis> axes;
    std::vector<int32_t> inFeatureToSrc, inPositionToSrc, outFeatureToDst, outPositionToDst; // full
    std::vector<int32_t> inElementToSrc, outElementToDst;                                    // diag
    int64_t taps() const;
    int64_t inPositions() const;
    friend bool operator==(const ProjectionGeometry&, const ProjectionGeometry&) = default;
};

struct PackageProjection {
    std::string name;
    int32_t src = -1, dst = -1;
    std::string coupling;
    int delay = 0;
    std::optional<ProjectionGeometry> geometry;
    friend bool operator==(const PackageProjection&, const PackageProjection&) = default;
};

// Synapses of one incoming projection into one slice of the core.
struct PackageInput {
    int32_t slice = 0;      // index into PackageCore::slices
    int32_t projection = 0; // index into Package::projections
    Encoding encoding = Encoding::Dense;
    int32_t delay = 0;
    std::vector<int32_t> axonSource; // src population neuron per axon
    std::vector<uint32_t> rowOffset; // start of each axon's row in `table`
    std::vector<uint8_t> table;      // the synapse table bytes (rows, then a shared kernel)
    // Weight exponents: synapse weight = mantissa << exponent of its target.
    // Empty: all 0; slice features (f1 - f0) entries: per target feature;
    // otherwise one per slice neuron. For a quantized module these are the
    // quantize pass's per-channel shifts (q.shift).
    std::vector<uint8_t> exponent;
    int exponentOf(int64_t localTarget, int64_t sliceFeatures) const
    {
        if (exponent.empty())
            return 0;
        return exponent[size_t(int64_t(exponent.size()) == sliceFeatures ? localTarget % sliceFeatures : localTarget)];
    }
    friend bool operator==(const PackageInput&, const PackageInput&) = default;
};

// One output axon: neuron `localNeuron` of this core sends to (core, input, axon).
struct RouteEntry {
    int32_t localNeuron = 0, destCore = 0, destInput = 0, destAxon = 0;
    friend bool operator==(const RouteEntry&, const RouteEntry&) = default;
};

struct PackageCore {
    int32_t index = 0;
    CoreCoord coord;
    std::vector<Slice> slices;
    std::vector<int32_t> bias; // per core-local neuron (slices in order, slice-local order)
    std::vector<PackageInput> inputs;
    std::vector<RouteEntry> routes;
    friend bool operator==(const PackageCore&, const PackageCore&) = default;
};

struct Package {
    std::string format = kPackageFormat;
    std::string compilerVersion;
    std::string model;
    std::string chipId, chipName;
    bool projectedChip = false;
    std::string projectionNote;
    std::string chipDescriptorJson;
    std::string pipeline;
    int64_t timesteps = 1;
    int depth = 0;
    int chipsUsed = 1;
    std::string objective;
    uint64_t seed = 1;
    int weightBits = 8;
    // True when the integer parameters are the quantize pass's (exact against
    // the fixed-point reference); false when the backend quantized f32 weights.
    bool fromQuantizedModule = false;
    std::string scheduleMode = "latency"; // schedule-time's mode: throughput | latency
    int chipsRequested = 1;               // board layout the placement used (routing)
    std::vector<PackagePopulation> populations;
    std::vector<PackageProjection> projections;
    std::vector<PackageCore> cores;
    // Report numbers (estimates) as written; not needed to run.
    double utilization = 0, stepTimeNs = 0, energyPj = 0, latencyNs = 0;
    friend bool operator==(const Package&, const Package&) = default;
};

// Quantizes and encodes. The synapse table bytes of every input equal the
// bytes the mapper accounted for that (slice, projection). Cores are encoded
// on `threads` threads (< 1: all the host has); the result does not depend on
// the thread count.
Package buildPackage(const Network& net, const Mapping& mapping, const ChipDescriptor& chip,
                     const std::string& pipeline, const Estimate& estimate, int threads = 0);

// Per-core blob encoding (little-endian, docs/package-format.md).
std::vector<uint8_t> encodeCore(const PackageCore& core);
std::optional<PackageCore> decodeCore(const std::vector<uint8_t>& bytes, std::string* error);

// Decodes the rows of a dense or sparse input back to synapses:
// f(axon, slice-local target, weight mantissa).
bool decodeRows(const PackageInput& in, int weightBits, int indexBits, int64_t sliceNeurons,
                const std::function<void(int64_t, int64_t, int32_t)>& f, std::string* error);

// Writes the directory (created if needed); returns false with `error`. An
// existing package there is replaced (its old core blobs removed); a
// non-empty directory that is not a package is refused.
bool writePackage(const Package& p, const std::string& dir, const std::string& listing, std::string* error,
                  int threads = 0);
std::optional<Package> readPackage(const std::string& dir, std::string* error, int threads = 0);

} // namespace stc::target
