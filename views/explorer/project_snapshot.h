// What the Explorer panel shows of a project file (.stcproj), read in one go
// off the GUI thread: the compile runs with their linked measurements
// (store::Project::configurations), the Pareto fronts the store computes, the
// model versions, tags and sweeps. Plain data; the panel only renders it.
#pragma once

#include "store/project.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace stc::views {

struct ExplorerRow {
    store::ConfigPoint point;      // compile run + latest accuracy / simulation
    std::string irPipeline;        // store::irPipelineOf(recorded pipeline); what the pass panel is given
    std::string irPipelineError;   // when the recorded pipeline does not parse (irPipeline empty)
    std::vector<std::string> tags; // of this run
    bool onEnergyFront = false;    // energy vs accuracy (store::Project::paretoFront)
    bool onLatencyFront = false;   // latency vs accuracy
};

struct ProjectSnapshot {
    std::string path;
    store::ProjectInfo info;
    std::vector<ExplorerRow> rows;                // compile runs, oldest first
    std::vector<int64_t> energyFront, latencyFront; // compile run ids on each front, sorted by x
    std::vector<store::ModelSource> models;
    std::vector<store::RunTag> tags;
    std::vector<store::SweepInfo> sweeps;
    int64_t accuracyRuns = 0, simulationRuns = 0;
    std::string note; // e.g. "upgraded … to project schema 2"
    double seconds = 0; // wall time of the read

    const ExplorerRow* row(int64_t runId) const;
};

struct ProjectLoad {
    std::shared_ptr<const ProjectSnapshot> snapshot; // null on error
    std::string error;                               // store::Error's message: says which file and why
};

// Opens the project read-only and reads everything above. An older schema is
// upgraded first (read-write, one transaction), as `stc project` read
// commands do, and the note says so. Never throws.
ProjectLoad loadProjectSnapshot(const std::string& path, const std::atomic<bool>* cancel = nullptr);

} // namespace stc::views
