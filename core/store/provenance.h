// Provenance of a deployment package exported from a project: everything
// needed to say where a package came from and to rebuild it (model file and
// its hash, pipeline, chip and descriptor hash, tool versions, run id).
// `stc project export` writes it as provenance.json into the package
// directory (format "stc.provenance/1", docs/projects.md).
#pragma once

#include "store/project.h"

#include <map>
#include <string>
#include <vector>

namespace stc::store {

struct Provenance {
    std::string project; // project file
    int64_t compileRunId = 0;
    ModelSource model;   // the model version the run compiled
    std::string chip;
    std::string chipSha256; // empty when the run predates schema 2
    std::string pipeline;   // full pipeline text as run (with partition/place/route)
    std::map<std::string, std::string> params; // e.g. calibration = "fashion-mnist:64"
    std::string runCreatedAt, runToolVersion;
    CompileResult recorded;      // the run's result, without pass rows
    std::vector<std::string> tags;
    std::string exportedAt, toolVersion; // set by provenanceOf: now, this build
};

// The provenance of a successful compile run. Throws Error(Invalid) for a
// missing run, another kind of run, a failed compile or a run without a
// recorded model version.
Provenance provenanceOf(const Project& project, int64_t compileRunId);

// Checks that the recorded model file still exists and hashes to the
// recorded SHA-256. Throws Error(NotFound) or Error(Invalid) saying which.
void verifyModelFile(const Provenance& p);

// "" when `descriptorJson` is the descriptor the run used (or the run did
// not record one), else a sentence saying the chip descriptor changed.
std::string chipDescriptorMismatch(const Provenance& p, const std::string& descriptorJson);

// "" when a recompile reproduced the recorded mapping (cores, chips) and
// cost-model estimate (energy, latency: relative difference <= 1e-9), else
// what differs.
std::string reproductionMismatch(const Provenance& p, const CompileResult& again);

// provenance.json text (pretty-printed, "format": "stc.provenance/1").
std::string provenanceJson(const Provenance& p);

} // namespace stc::store
