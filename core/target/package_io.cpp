// Package storage: the JSON manifest, the directory (per-core blobs are
// encoded in package_blob.cpp) and decoding of synapse rows.
#include "target/package.h"
#include "target/package_files.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

namespace stc::target {

using nlohmann::json;

bool decodeRows(const PackageInput& in, int wb, int ib, int64_t sliceNeurons,
                const std::function<void(int64_t, int64_t, int32_t)>& f, std::string* error)
{
    auto bits = [&](size_t& byte, int& bit, int n) {
        uint64_t v = 0;
        for (int k = 0; k < n; ++k) {
            if (byte >= in.table.size())
                return uint64_t(0);
            v |= uint64_t((in.table[byte] >> bit) & 1u) << k;
            if (++bit == 8) {
                bit = 0;
                ++byte;
            }
        }
        return v;
    };
    auto signExtend = [&](uint64_t v) { return int32_t(int64_t(v << (64 - wb)) >> (64 - wb)); };
    auto u16 = [&](size_t& byte) {
        const uint32_t v = byte + 1 < in.table.size() ? uint32_t(in.table[byte]) | uint32_t(in.table[byte + 1]) << 8 : 0;
        byte += 2;
        return v;
    };
    if (in.encoding == Encoding::ConvShared) {
        if (error)
            *error = "conv_shared rows expand through the projection geometry, not row by row";
        return false;
    }
    for (size_t a = 0; a < in.rowOffset.size(); ++a) {
        size_t byte = in.rowOffset[a];
        int bit = 0;
        if (in.encoding == Encoding::Dense) {
            const uint32_t runs = u16(byte);
            for (uint32_t r = 0; r < runs; ++r) {
                const uint32_t start = u16(byte), len = u16(byte);
                bit = 0;
                for (uint32_t k = 0; k < len; ++k)
                    f(int64_t(a), int64_t(start + k), signExtend(bits(byte, bit, wb)));
                if (bit)
                    ++byte, bit = 0;
            }
        } else {
            const uint32_t n = u16(byte);
            u16(byte);
            for (uint32_t k = 0; k < n; ++k) {
                const int32_t w = signExtend(bits(byte, bit, wb));
                const int64_t target = int64_t(bits(byte, bit, ib));
                if (target >= sliceNeurons) {
                    if (error)
                        *error = "sparse entry targets neuron " + std::to_string(target) + " outside the slice";
                    return false;
                }
                f(int64_t(a), target, w);
            }
        }
    }
    return true;
}

int64_t ProjectionGeometry::taps() const
{
    int64_t t = 1;
    for (const auto& a : axes)
        t *= a.kernel;
    return t;
}

int64_t ProjectionGeometry::inPositions() const
{
    int64_t n = 1;
    for (const auto& a : axes)
        n *= a.inSize;
    return n;
}

namespace {

json sliceJson(const Slice& s)
{
    return {{"pop", s.pop}, {"f0", s.f0}, {"f1", s.f1}, {"lo", s.lo}, {"hi", s.hi}};
}

// Index maps are mostly the identity: stored as {"identity": n} then.
json mapJson(const std::vector<int32_t>& v)
{
    for (size_t i = 0; i < v.size(); ++i)
        if (v[i] != int32_t(i))
            return json(v);
    return json{{"identity", v.size()}};
}

std::vector<int32_t> mapFrom(const json& j)
{
    if (!j.is_object())
        return j.get<std::vector<int32_t>>();
    std::vector<int32_t> v(j.at("identity").get<size_t>());
    for (size_t i = 0; i < v.size(); ++i)
        v[i] = int32_t(i);
    return v;
}

json geometryJson(const ProjectionGeometry& g)
{
    json axes = json::array();
    for (const auto& a : g.axes)
        axes.push_back({a.inSize, a.outSize, a.kernel, a.stride, a.pad, a.dilation});
    return {{"feature_axis", g.featureAxis}, {"in_shape", g.inShape},        {"out_shape", g.outShape},
            {"in_features", g.inFeatures},   {"out_features", g.outFeatures}, {"groups", g.groups},
            {"axes", axes},                  {"in_feature_to_src", mapJson(g.inFeatureToSrc)},
            {"in_position_to_src", mapJson(g.inPositionToSrc)},
            {"out_feature_to_dst", mapJson(g.outFeatureToDst)},
            {"out_position_to_dst", mapJson(g.outPositionToDst)},
            {"in_element_to_src", mapJson(g.inElementToSrc)},
            {"out_element_to_dst", mapJson(g.outElementToDst)}};
}

ProjectionGeometry geometryFrom(const json& j)
{
    ProjectionGeometry g;
    g.featureAxis = j.at("feature_axis").get<int>();
    g.inShape = j.at("in_shape").get<std::vector<int64_t>>();
    g.outShape = j.at("out_shape").get<std::vector<int64_t>>();
    g.inFeatures = j.at("in_features").get<int64_t>();
    g.outFeatures = j.at("out_features").get<int64_t>();
    g.groups = j.at("groups").get<int64_t>();
    for (const json& a : j.at("axes")) {
        const auto v = a.get<std::vector<int64_t>>();
        if (v.size() != 6)
            throw std::runtime_error("geometry axis needs 6 numbers");
        g.axes.push_back({v[0], v[1], v[2], v[3], v[4], v[5]});
    }
    g.inFeatureToSrc = mapFrom(j.at("in_feature_to_src"));
    g.inPositionToSrc = mapFrom(j.at("in_position_to_src"));
    g.outFeatureToDst = mapFrom(j.at("out_feature_to_dst"));
    g.outPositionToDst = mapFrom(j.at("out_position_to_dst"));
    g.inElementToSrc = mapFrom(j.at("in_element_to_src"));
    g.outElementToDst = mapFrom(j.at("out_element_to_dst"));
    return g;
}

// stc.package/3 keeps every core's blob in this one file (a file per core
// cost more time creating files than encoding them).
constexpr const char* kCoreBlobFile = "cores.bin";

// The manifest but the blobs' places (offset, bytes per core).
json manifestJson(const Package& p)
{
    json m;
    m["format"] = kPackageFormat; // the blobs are always written in the current version
    m["compiler_version"] = p.compilerVersion;
    m["model"] = p.model;
    m["chip"] = {{"id", p.chipId},
                 {"name", p.chipName},
                 {"projected", p.projectedChip},
                 {"projection_note", p.projectionNote},
                 {"descriptor", p.chipDescriptorJson}};
    m["pipeline"] = p.pipeline;
    m["schedule"] = {{"timesteps", p.timesteps}, {"pipeline_depth", p.depth}, {"mode", p.scheduleMode}};
    m["mapping"] = {{"chips_used", p.chipsUsed},
                    {"chips_requested", p.chipsRequested},
                    {"objective", p.objective},
                    {"seed", p.seed}};
    m["fixed_point"] = {{"weight_bits", p.weightBits},
                        {"semantics", "fixedpoint/arith.h (Loihi/Lava CUBA LIF)"},
                        {"source", p.fromQuantizedModule ? "quantize pass" : "backend"}};
    m["estimates"] = {{"label", p.projectedChip ? "estimate, projected chip" : "estimate"},
                      {"binding_utilization", p.utilization},
                      {"step_time_ns", p.stepTimeNs},
                      {"energy_pj_per_inference", p.energyPj},
                      {"latency_ns_per_inference", p.latencyNs}};
    json pops = json::array();
    for (const auto& q : p.populations)
        pops.push_back({{"name", q.name}, {"kind", q.kind}, {"model", q.model}, {"origin", q.origin},
                        {"shape", q.shape}, {"feature_axis", q.featureAxis}, {"spike_bits", q.spikeBits},
                        {"phase", q.phase}, {"du", q.du}, {"dv", q.dv}, {"act_shift", q.actShift},
                        {"theta", q.theta}, {"fire_on_equal", q.fireOnEqual}, {"reset", q.reset},
                        {"unit", q.unit}, {"value_scale", q.valueScale}, {"output_scale", q.outputScale},
                        {"per_step_output", q.perStepOutput}, {"bias_once", q.biasOnce}, {"input_scale", q.inputScale},
                        {"input_lo", q.inputLo}, {"input_hi", q.inputHi}});
    m["populations"] = pops;
    json projs = json::array();
    for (const auto& q : p.projections) {
        json j = {{"name", q.name}, {"src", q.src}, {"dst", q.dst}, {"coupling", q.coupling}, {"delay", q.delay}};
        if (q.geometry)
            j["geometry"] = geometryJson(*q.geometry);
        projs.push_back(std::move(j));
    }
    m["projections"] = projs;
    json cores = json::array();
    for (const auto& c : p.cores) {
        json slices = json::array();
        for (const auto& s : c.slices)
            slices.push_back(sliceJson(s));
        cores.push_back({{"index", c.index},
                         {"file", kCoreBlobFile},
                         {"chip", c.coord.chip},
                         {"tile", {c.coord.tileX, c.coord.tileY}},
                         {"core", c.coord.core},
                         {"slices", slices},
                         {"neurons", c.bias.size()},
                         {"inputs", c.inputs.size()},
                         {"routes", c.routes.size()}});
    }
    m["cores"] = std::move(cores);
    return m;
}

} // namespace

bool writePackage(const Package& p, const std::string& dir, const std::string& listing, std::string* error,
                  int threads)
{
    namespace fs = std::filesystem;
    std::vector<std::string> oldFiles;
    if (!preparePackageDir(dir, &oldFiles, error))
        return false;
    // The manifest is built on another thread while the blobs are encoded and
    // printed while the last of them are written (it needs their places).
    std::future<json> building = std::async(std::launch::async, [&p] { return manifestJson(p); });
    std::vector<BlobRef> refs;
    std::string manifest;
    auto printManifest = [&] {
        json m = building.get();
        json& cores = m["cores"];
        for (size_t k = 0; k < refs.size(); ++k) {
            cores[k]["offset"] = refs[k].offset;
            cores[k]["bytes"] = refs[k].bytes;
        }
        manifest = m.dump(1) + '\n';
    };
    if (!writeCoreBlobs(p.cores, dir, kCoreBlobFile, threads, refs, error, kBlobChunk, printManifest))
        return false;
    removeStaleFiles(dir, oldFiles, {kCoreBlobFile});
    // The manifest last: until it exists the directory is not a package.
    if (!writeFileAtomically((fs::path(dir) / "listing.txt").string(), listing) ||
        !writeFileAtomically((fs::path(dir) / "manifest.json").string(), manifest)) {
        if (error)
            *error = "cannot write the manifest or listing in " + dir;
        return false;
    }
    return true;
}

std::optional<Package> readPackage(const std::string& dir, std::string* error, int threads)
{
    namespace fs = std::filesystem;
    auto fail = [&](const std::string& what) -> std::optional<Package> {
        if (error)
            *error = what;
        return std::nullopt;
    };
    std::ifstream mf(fs::path(dir) / "manifest.json");
    if (!mf)
        return fail("no manifest.json in " + dir);
    json m;
    try {
        m = json::parse(mf);
        Package p;
        p.format = m.at("format").get<std::string>();
        if (p.format != kPackageFormat && p.format != "stc.package/2" && p.format != "stc.package/1")
            return fail("package format " + p.format + ", this reader reads " + kPackageFormat +
                        ", stc.package/2 and stc.package/1");
        p.compilerVersion = m.at("compiler_version").get<std::string>();
        p.model = m.at("model").get<std::string>();
        const json& chip = m.at("chip");
        p.chipId = chip.at("id").get<std::string>();
        p.chipName = chip.at("name").get<std::string>();
        p.projectedChip = chip.at("projected").get<bool>();
        p.projectionNote = chip.at("projection_note").get<std::string>();
        p.chipDescriptorJson = chip.at("descriptor").get<std::string>();
        p.pipeline = m.at("pipeline").get<std::string>();
        p.timesteps = m.at("schedule").at("timesteps").get<int64_t>();
        p.depth = m.at("schedule").at("pipeline_depth").get<int>();
        p.scheduleMode = m.at("schedule").value("mode", std::string("latency"));
        p.fromQuantizedModule = m.at("fixed_point").value("source", std::string("backend")) == "quantize pass";
        p.chipsUsed = m.at("mapping").at("chips_used").get<int>();
        p.chipsRequested = m.at("mapping").value("chips_requested", p.chipsUsed);
        p.objective = m.at("mapping").at("objective").get<std::string>();
        p.seed = m.at("mapping").at("seed").get<uint64_t>();
        p.weightBits = m.at("fixed_point").at("weight_bits").get<int>();
        const json& est = m.at("estimates");
        p.utilization = est.at("binding_utilization").get<double>();
        p.stepTimeNs = est.at("step_time_ns").get<double>();
        p.energyPj = est.at("energy_pj_per_inference").get<double>();
        p.latencyNs = est.at("latency_ns_per_inference").get<double>();
        for (const json& q : m.at("populations")) {
            PackagePopulation pp;
            pp.name = q.at("name").get<std::string>();
            pp.kind = q.at("kind").get<std::string>();
            pp.model = q.at("model").get<std::string>();
            pp.origin = q.at("origin").get<std::string>();
            pp.shape = q.at("shape").get<std::vector<int64_t>>();
            pp.featureAxis = q.at("feature_axis").get<int>();
            pp.spikeBits = q.at("spike_bits").get<int>();
            pp.phase = q.at("phase").get<int>();
            pp.du = q.at("du").get<int32_t>();
            pp.dv = q.at("dv").get<int32_t>();
            pp.actShift = q.at("act_shift").get<int32_t>();
            pp.theta = q.at("theta").get<int64_t>();
            pp.fireOnEqual = q.at("fire_on_equal").get<bool>();
            pp.reset = q.at("reset").get<std::string>();
            pp.unit = q.at("unit").get<double>();
            pp.valueScale = q.at("value_scale").get<double>();
            pp.outputScale = q.at("output_scale").get<double>();
            pp.perStepOutput = q.value("per_step_output", false);
            pp.biasOnce = q.value("bias_once", false);
            pp.inputScale = q.value("input_scale", pp.valueScale);
            pp.inputLo = q.value("input_lo", int64_t{0});
            pp.inputHi = q.value("input_hi", int64_t{255});
            p.populations.push_back(std::move(pp));
        }
        for (const json& q : m.at("projections")) {
            p.projections.push_back({q.at("name").get<std::string>(), q.at("src").get<int32_t>(),
                                     q.at("dst").get<int32_t>(), q.at("coupling").get<std::string>(),
                                     q.at("delay").get<int>(), std::nullopt});
            if (q.contains("geometry"))
                p.projections.back().geometry = geometryFrom(q.at("geometry"));
        }
        // Version 3: a byte range of one shared file per core; 1 and 2: a file per core.
        std::vector<BlobRef> refs;
        for (const json& c : m.at("cores")) {
            BlobRef r{c.at("file").get<std::string>(), 0, -1};
            if (c.contains("bytes")) {
                r.offset = c.at("offset").get<int64_t>();
                r.bytes = c.at("bytes").get<int64_t>();
                if (r.offset < 0 || r.bytes < 0)
                    return fail("manifest.json: core " + std::to_string(refs.size()) + " has a negative blob range");
            }
            refs.push_back(std::move(r));
        }
        std::string err;
        if (!readCoreBlobs(dir, refs, threads, p.cores, &err))
            return fail(err);
        return p;
    } catch (const std::exception& e) {
        return fail(std::string("manifest.json: ") + e.what());
    }
}

} // namespace stc::target
