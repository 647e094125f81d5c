#include "sweep_mpi.h"

#include <QTemporaryDir>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

namespace stc::cli {

namespace {

std::string readFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

} // namespace

std::optional<store::SweepResult> runSweepOverRanks(const MpiSession& mpi, const ir::Module& model,
                                                    const data::ImageSet& test,
                                                    const passes::CalibrationProvider& calibration,
                                                    const store::SweepSpec& spec, store::Project* project,
                                                    const store::ModelSource& source, bool* failed)
{
    *failed = false;
    const int64_t images = std::min<int64_t>(spec.limit, test.count);
    // Rank 0 knows what the project holds already; everyone gets the list.
    std::string measured;
    if (mpi.rank() == 0) {
        const std::vector<bool> done = spec.resume ? store::measuredInProject(*project, spec, images)
                                                   : std::vector<bool>(store::sweepConfigurations(spec).size(), false);
        for (bool d : done)
            measured += d ? '1' : '0';
    }
    measured = mpi.broadcast(measured);
    std::vector<size_t> todo;
    for (size_t i = 0; i < measured.size(); ++i)
        if (measured[i] == '0')
            todo.push_back(i);
    store::SweepSpec mine = spec;
    mine.only.clear();
    for (size_t k = size_t(mpi.rank()); k < todo.size(); k += size_t(mpi.size()))
        mine.only.push_back(todo[k]);
    mine.floatBaseline = false;
    mine.resume = false;
    mine.description = spec.description + " (rank " + std::to_string(mpi.rank()) + ")";

    // This rank's share, into a private project file sent to rank 0 as bytes.
    std::string payload;
    std::string error;
    int64_t evaluated = 0;
    QTemporaryDir tmp;
    if (!mine.only.empty()) {
        try {
            const std::string path = tmp.filePath("share.stcproj").toStdString();
            {
                store::ProjectInfo info;
                info.name = "rank share";
                info.chip = spec.chip;
                store::Project share = store::Project::create(path, info);
                share.setModel(source);
                const store::SweepResult r = store::runSweep(model, test, calibration, mine, &share);
                error = r.error;
                evaluated = r.imagesEvaluated;
                if (r.cancelled)
                    error = "cancelled";
            }
            payload = readFile(path);
        } catch (const store::Error& e) {
            error = e.what();
        }
    }
    if (!error.empty())
        std::fprintf(stderr, "stc sweep: rank %d: %s\n", mpi.rank(), error.c_str());
    *failed = mpi.anyFailed(!error.empty());
    const std::vector<std::string> shares = mpi.gather(std::to_string(evaluated) + "\n" + payload);
    if (mpi.rank() != 0 || *failed)
        return std::nullopt;

    // Rank 0: the ranks' runs in grid order (rank r holds todo[r], todo[r + N], ...), then the rest.
    int64_t totalEvaluated = 0;
    std::vector<std::optional<store::Project>> opened(shares.size());
    try {
        for (size_t r = 0; r < shares.size(); ++r) {
            std::istringstream in(shares[r]);
            int64_t n = 0;
            in >> n;
            totalEvaluated += n;
            const std::string bytes = shares[r].substr(shares[r].find('\n') + 1);
            if (bytes.empty())
                continue;
            const std::string path = tmp.filePath(QString("rank%1.stcproj").arg(r)).toStdString();
            std::ofstream(path, std::ios::binary) << bytes;
            opened[r].emplace(store::Project::open(path, store::OpenMode::ReadOnly));
        }
        const int64_t sweepId =
            project->addSweep(spec.description + " (MPI, " + std::to_string(mpi.size()) + " ranks)");
        // Copy round by round: rank 0's first configuration, rank 1's first, ..., which is grid order.
        std::vector<std::vector<store::RunMeta>> compiles(shares.size());
        store::RunFilter f;
        f.kind = store::RunKind::Compile;
        for (size_t r = 0; r < shares.size(); ++r)
            if (opened[r])
                compiles[r] = opened[r]->listRuns(f);
        for (size_t k = 0; k < todo.size(); ++k) {
            const size_t r = k % shares.size(), nth = k / shares.size();
            if (!opened[r] || nth >= compiles[r].size()) {
                std::fprintf(stderr, "stc sweep: rank %zu sent fewer configurations than it was given\n", r);
                return std::nullopt;
            }
            store::RunFilter linked;
            linked.kind = store::RunKind::Accuracy;
            linked.compileRunId = compiles[r][nth].id;
            const auto run = opened[r]->compileRun(compiles[r][nth].id);
            std::vector<store::AccuracyRun> accuracy;
            for (const store::RunMeta& a : opened[r]->listRuns(linked))
                accuracy.push_back(*opened[r]->accuracyRun(a.id));
            project->transaction([&] {
                store::RunMeta meta = run->meta;
                meta.id = 0;
                meta.modelId = 0;
                meta.sweepId = sweepId;
                const int64_t id = project->addCompileRun(meta, run->result);
                for (store::AccuracyRun& a : accuracy) {
                    a.meta.id = 0;
                    a.meta.modelId = 0;
                    a.meta.sweepId = sweepId;
                    a.meta.compileRunId = id;
                    project->addAccuracyRun(a.meta, a.result);
                }
            });
        }
        // Everything is measured now: the sweep completes from the project (and adds the float baseline).
        store::SweepSpec rest = spec;
        rest.resume = true;
        rest.sweepId = sweepId;
        store::SweepResult result = store::runSweep(model, test, calibration, rest, project);
        result.imagesEvaluated += totalEvaluated;
        for (store::SweepPoint& p : result.points) // reused from an earlier run, not from this one's ranks
            p.resumed = measured[&p - result.points.data()] == '1';
        return result;
    } catch (const store::Error& e) {
        std::fprintf(stderr, "stc sweep: %s\n", e.what());
        return std::nullopt;
    }
}

} // namespace stc::cli
