#include "store/provenance.h"

#include "store/sha256.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>

#ifndef STC_VERSION
#define STC_VERSION "0.0.0"
#endif

namespace stc::store {

namespace {

bool sameValue(double a, double b)
{
    return std::abs(a - b) <= 1e-9 * std::max(std::abs(a), std::abs(b));
}

} // namespace

Provenance provenanceOf(const Project& project, int64_t compileRunId)
{
    const std::string where = project.path() + ": ";
    std::optional<CompileRun> run;
    try {
        run = project.compileRun(compileRunId);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::Invalid)
            throw;
    }
    if (!run)
        throw Error(ErrorKind::Invalid, where + "no compile run " + std::to_string(compileRunId) +
                                            " (`stc project runs --kind compile` lists them)");
    if (run->result.status != CompileStatus::Ok)
        throw Error(ErrorKind::Invalid, where + "compile run " + std::to_string(compileRunId) + " " +
                                            toString(run->result.status) + "; there is no package to export");
    const std::optional<ModelSource> model = run->meta.modelId ? project.model(run->meta.modelId) : std::nullopt;
    if (!model)
        throw Error(ErrorKind::Invalid, where + "compile run " + std::to_string(compileRunId) +
                                            " has no recorded model version, so it cannot be reproduced");
    Provenance p;
    p.project = project.path();
    p.compileRunId = compileRunId;
    p.model = *model;
    p.chip = run->meta.chip;
    p.chipSha256 = run->result.chipSha256;
    p.pipeline = run->meta.pipeline;
    p.params = run->meta.params;
    p.runCreatedAt = run->meta.createdAt;
    p.runToolVersion = run->meta.toolVersion;
    p.recorded = run->result;
    p.recorded.passes.clear();
    for (const RunTag& t : project.tags(compileRunId))
        p.tags.push_back(t.tag);
    p.exportedAt = utcNow();
    p.toolVersion = STC_VERSION;
    return p;
}

void verifyModelFile(const Provenance& p)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p.model.path, ec))
        throw Error(ErrorKind::NotFound, p.model.path + ": the model file of compile run " +
                                             std::to_string(p.compileRunId) + " is gone (recorded sha256 " +
                                             p.model.sha256 + "); not reproduced");
    std::string hash, error;
    if (!sha256File(p.model.path, hash, error))
        throw Error(ErrorKind::Io, error);
    if (hash != p.model.sha256)
        throw Error(ErrorKind::Invalid, p.model.path + ": the model file changed since compile run " +
                                            std::to_string(p.compileRunId) + " (recorded sha256 " + p.model.sha256 +
                                            ", now " + hash + "); not reproduced. `stc project add` records the " +
                                            "new version; compile it to get a run to export");
}

std::string chipDescriptorMismatch(const Provenance& p, const std::string& descriptorJson)
{
    if (p.chipSha256.empty())
        return {};
    const std::string now = sha256Hex(descriptorJson);
    if (now == p.chipSha256)
        return {};
    return "the chip descriptor '" + p.chip + "' changed since compile run " + std::to_string(p.compileRunId) +
           " (recorded sha256 " + p.chipSha256 + ", now " + now + "); not reproduced";
}

std::string reproductionMismatch(const Provenance& p, const CompileResult& again)
{
    const CompileResult& r = p.recorded;
    if (again.status != CompileStatus::Ok || !again.mapped)
        return "the recompile did not produce a mapping";
    if (!r.mapped)
        return {}; // nothing recorded to compare with
    std::string diff;
    auto note = [&](const std::string& what, const std::string& was, const std::string& now) {
        diff += (diff.empty() ? "" : "; ") + what + " " + was + " recorded, " + now + " now";
    };
    if (again.coresUsed != r.coresUsed)
        note("cores", std::to_string(r.coresUsed), std::to_string(again.coresUsed));
    if (again.chipsUsed != r.chipsUsed)
        note("chips", std::to_string(r.chipsUsed), std::to_string(again.chipsUsed));
    if (!sameValue(again.energyPj, r.energyPj))
        note("energy (pJ)", std::to_string(r.energyPj), std::to_string(again.energyPj));
    if (!sameValue(again.latencyNs, r.latencyNs))
        note("latency (ns)", std::to_string(r.latencyNs), std::to_string(again.latencyNs));
    return diff;
}

std::string provenanceJson(const Provenance& p)
{
    using nlohmann::json;
    json j;
    j["format"] = "stc.provenance/1";
    j["project"] = p.project;
    j["compile_run_id"] = p.compileRunId;
    j["model"] = {{"version_id", p.model.id},     {"path", p.model.path},
                  {"sha256", p.model.sha256},     {"format", p.model.format},
                  {"input_shape", p.model.inputShape}, {"timesteps", p.model.timesteps},
                  {"added_at", p.model.addedAt}};
    j["chip"] = {{"id", p.chip}, {"descriptor_sha256", p.chipSha256}};
    j["pipeline"] = p.pipeline;
    j["params"] = p.params;
    j["compiled"] = {{"at", p.runCreatedAt}, {"tool_version", p.runToolVersion}};
    const CompileResult& r = p.recorded;
    j["estimate"] = {{"cores", r.coresUsed},       {"chips", r.chipsUsed},
                     {"utilization", r.utilization}, {"energy_pj", r.energyPj},
                     {"latency_ns", r.latencyNs},  {"projected_chip", r.projectedChip}};
    j["tags"] = p.tags;
    j["exported"] = {{"at", p.exportedAt}, {"tool_version", p.toolVersion}};
    return j.dump(2) + "\n";
}

} // namespace stc::store
