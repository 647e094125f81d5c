#include "explorer/project_snapshot.h"

#include "store/schema.h"
#include "store/pipeline_text.h"

#include <algorithm>
#include <chrono>

namespace stc::views {

const ExplorerRow* ProjectSnapshot::row(int64_t runId) const
{
    for (const ExplorerRow& r : rows)
        if (r.point.meta.id == runId)
            return &r;
    return nullptr;
}

namespace {

store::Project openForReading(const std::string& path, std::string* note)
{
    try {
        return store::Project::open(path, store::OpenMode::ReadOnly);
    } catch (const store::Error& e) {
        if (e.kind() != store::ErrorKind::OlderSchema)
            throw;
    }
    store::Project p = store::Project::open(path, store::OpenMode::ReadWrite);
    *note = "upgraded " + path + " to project schema " + std::to_string(store::kSchemaVersion) +
            " (older STC Studio versions can no longer open it)";
    return p;
}

std::vector<int64_t> frontIds(const store::Project& p, store::Metric x)
{
    std::vector<int64_t> ids;
    for (const store::ConfigPoint& c : p.paretoFront(x, store::Metric::Accuracy))
        ids.push_back(c.meta.id);
    return ids;
}

} // namespace

ProjectLoad loadProjectSnapshot(const std::string& path, const std::atomic<bool>* cancel)
{
    ProjectLoad out;
    const auto t0 = std::chrono::steady_clock::now();
    try {
        auto snap = std::make_shared<ProjectSnapshot>();
        snap->path = path;
        store::Project p = openForReading(path, &snap->note);
        snap->info = p.info();
        snap->models = p.models();
        snap->tags = p.tags();
        snap->sweeps = p.sweeps();
        store::RunFilter byKind;
        byKind.kind = store::RunKind::Accuracy;
        snap->accuracyRuns = int64_t(p.listRuns(byKind).size());
        byKind.kind = store::RunKind::Simulation;
        snap->simulationRuns = int64_t(p.listRuns(byKind).size());
        if (cancel && cancel->load())
            return out;
        snap->energyFront = frontIds(p, store::Metric::EnergyPj);
        snap->latencyFront = frontIds(p, store::Metric::LatencyNs);
        for (store::ConfigPoint& c : p.configurations()) {
            ExplorerRow r;
            r.point = std::move(c);
            if (auto ir = store::irPipelineOf(r.point.meta.pipeline, &r.irPipelineError))
                r.irPipeline = *ir;
            for (const store::RunTag& t : snap->tags)
                if (t.runId == r.point.meta.id)
                    r.tags.push_back(t.tag);
            auto on = [&](const std::vector<int64_t>& f) { return std::ranges::find(f, r.point.meta.id) != f.end(); };
            r.onEnergyFront = on(snap->energyFront);
            r.onLatencyFront = on(snap->latencyFront);
            snap->rows.push_back(std::move(r));
        }
        snap->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        out.snapshot = std::move(snap);
    } catch (const store::Error& e) {
        out.error = e.what();
    } catch (const std::exception& e) {
        out.error = path + ": " + e.what();
    }
    return out;
}

} // namespace stc::views
