// An STC project file (.stcproj): one SQLite database holding the model
// source, the chip target, named pipelines and the history of runs (compile
// results with per-pass records, accuracy measurements, simulation ledgers),
// each with a timestamp and the tool version. docs/projects.md has the schema.
//
// Plain value structs in, plain value structs out; nothing of the IR or the
// mapping is stored, only what a user compares later. Every call is one
// transaction (or joins the caller's Project::transaction), throws
// store::Error on failure and then leaves the file as it was.
//
// Threads: a Project is one SQLite connection; use it from one thread at a
// time. Other threads or processes open their own Project (e.g. read-only for
// a chart while `stc sweep` appends): readers run concurrently, a writer waits
// for them (busy timeout 5 s).
#pragma once

#include "store/error.h"
#include "store/pareto.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace stc::store {

namespace sql {
class Db;
}

enum class OpenMode : uint8_t { ReadWrite, ReadOnly };

struct ModelSource {
    int64_t id = 0;         // set by the store
    std::string path;       // where it was loaded from
    std::string sha256;     // of the file's bytes, 64 lowercase hex digits
    std::string format;     // "sir", "pt", ... (the file extension)
    std::vector<int64_t> inputShape;
    int64_t timesteps = 0;  // T of the imported module
    std::string addedAt;    // set by the store
    std::string diagnostics; // import warnings/notes, formatted one per line (schema 2; empty before)
};

// Reads and hashes a model file. Throws Error(NotFound / Io).
ModelSource describeModelFile(const std::string& path, std::vector<int64_t> inputShape, int64_t timesteps);

struct ProjectInfo {
    std::string name;
    std::string chip;  // target chip id, e.g. "loihi3"
    std::string notes;
    std::string createdAt, createdBy; // set by create(): timestamp, tool version
    int schemaVersion = 0;            // set by info()
    std::optional<ModelSource> model; // the current model (info() only; use setModel to change it)
};

struct NamedPipeline {
    std::string name;
    std::string text; // pipeline text (docs/passes.md), stored as given
    std::string updatedAt;
};

struct SweepInfo {
    int64_t id = 0;
    std::string createdAt, toolVersion;
    std::string description; // e.g. the command line
};

enum class RunKind : uint8_t { Compile, Accuracy, Simulation };
const char* toString(RunKind k);
std::optional<RunKind> parseRunKind(std::string_view s);

// What every run records besides its result. On insert, empty fields get
// defaults: createdAt = now (UTC), toolVersion = this build, modelId = the
// project's current model. id and kind are set by the store.
struct RunMeta {
    int64_t id = 0;
    RunKind kind = RunKind::Compile;
    std::string createdAt;
    std::string toolVersion;
    int64_t modelId = 0;
    std::string chip;
    std::string pipeline; // full pipeline text as run
    std::string label;
    int64_t sweepId = 0;      // 0 = not part of a sweep
    int64_t compileRunId = 0; // accuracy / simulation: the compiled configuration measured (0 = none)
    std::map<std::string, std::string> params; // e.g. bits = "8", sparsity = "0.25"
};

using StatValue = std::variant<int64_t, double>;

struct PassStat {
    std::string name;
    StatValue value;
    friend bool operator==(const PassStat&, const PassStat&) = default;
};

// One pipeline entry as it ran (passes::PassRecord without the IR).
struct PassRow {
    int position = 0;      // 0-based, unique within the run
    std::string pass;      // "quantize"
    std::string entry;     // "quantize{bits=8}"
    std::string status;    // ok | failed | skipped | cancelled | not-run
    double seconds = 0;
    bool changed = false;
    std::string diagnostics; // formatted, one per line
    std::vector<PassStat> stats;
    friend bool operator==(const PassRow&, const PassRow&) = default;
};

enum class CompileStatus : uint8_t { Ok, Failed, Cancelled };
const char* toString(CompileStatus s);

struct CompileResult {
    CompileStatus status = CompileStatus::Ok;
    double seconds = 0;
    std::vector<PassRow> passes;
    // Mapping and cost-model estimate, valid when mapped (else NULL in the file).
    bool mapped = false;
    std::string notMappedReason;
    int64_t coresUsed = 0;
    int64_t chipsUsed = 0;
    double utilization = 0;         // mean binding utilization over used cores, 0..1
    double utilizationWithTime = 0;
    double stepTimeNs = 0;
    double latencyNs = 0;           // per inference
    double energyPj = 0;            // per inference, total
    double synapticPj = 0, neuronPj = 0, networkPj = 0, staticPj = 0;
    double baselinePj = 0;          // literature GPU/ANN-equivalent baseline
    bool ratesMeasured = false;
    bool projectedChip = false;
    // Provenance (schema 2; empty for older runs and runs without a package).
    std::string chipSha256;  // SHA-256 of the chip descriptor JSON the mapping used
    std::string packagePath; // where the package was written
};

// A label on a compile run; "deployed" marks what runs on hardware.
struct RunTag {
    int64_t runId = 0;
    std::string tag;
    std::string note;
    std::string createdAt, toolVersion; // set by the store
};

enum class EvalPath : uint8_t { Float, FixedPoint, ChipSim };
const char* toString(EvalPath p); // float | fixed-point | chip-sim

struct AccuracyResult {
    std::string dataset = "fashion-mnist";
    std::string split = "test";
    int64_t firstSample = 0;
    int64_t samples = 0;
    int64_t correct = 0;
    EvalPath path = EvalPath::FixedPoint;
    double seconds = 0;
    double accuracy() const { return samples ? double(correct) / double(samples) : 0.0; }
};

// Events and energy of one layer (population) and event kind, summed over
// all simulated samples.
struct EnergyEntry {
    std::string layer;
    std::string event; // synaptic-op, neuron-active, neuron-idle, spike, hop-ew, hop-ns, chip-link, static...
    int64_t count = 0;
    double energyPj = 0;
    friend bool operator==(const EnergyEntry&, const EnergyEntry&) = default;
};

struct SimulationLedger {
    std::string simulator = "stc-sim";
    int64_t samples = 0;
    int64_t steps = 0;          // hardware steps per inference
    double stepTimeNs = 0;
    double latencyNs = 0;       // per inference
    double energyPj = 0;        // per inference (entries / samples)
    double seconds = 0;         // wall time of the simulation
    std::vector<EnergyEntry> entries;
};

struct CompileRun {
    RunMeta meta;
    CompileResult result;
};
struct AccuracyRun {
    RunMeta meta;
    AccuracyResult result;
};
struct SimulationRun {
    RunMeta meta;
    SimulationLedger result;
};

// Empty / zero fields do not filter.
struct RunFilter {
    std::optional<RunKind> kind;
    int64_t sweepId = 0;
    int64_t modelId = 0;
    int64_t compileRunId = 0;
    std::string chip;
    std::vector<int64_t> runIds; // only these runs (empty: all)
    int limit = 0;          // 0 = all
    bool newestFirst = false;
};

// A compiled configuration with what was measured on it: one row of the
// trade-off table/chart. Accuracy and simulation values come from the latest
// run linked to the compile run (RunMeta::compileRunId).
struct ConfigPoint {
    RunMeta meta; // of the compile run
    CompileResult compile; // without pass rows
    int64_t accuracyRunId = 0, simulationRunId = 0;
    std::optional<AccuracyResult> accuracy;
    std::optional<double> simEnergyPj, simLatencyNs;
    // nullopt when not measured (no accuracy run, not mapped, ...).
    std::optional<double> value(Metric m) const;
};

class Project {
public:
    // Creates a new project; refuses an existing path (Error Exists), so
    // nothing is ever overwritten. A failed create removes the partial file.
    static Project create(const std::string& path, const ProjectInfo& info);
    // Opens a project. Refuses (with a message saying why, file untouched):
    // a missing file, a directory, an empty or non-SQLite file, another
    // application's SQLite file, a newer schema, a damaged/truncated file.
    // An older schema is upgraded in one transaction (ReadWrite only).
    static Project open(const std::string& path, OpenMode mode = OpenMode::ReadWrite);

    Project(Project&&) noexcept;
    Project& operator=(Project&&) noexcept;
    ~Project();

    const std::string& path() const { return path_; }
    bool readOnly() const { return readOnly_; }

    ProjectInfo info() const;
    // Updates name, chip and notes (other fields are ignored).
    void setInfo(const ProjectInfo& info);
    // Records a model version (or finds the identical one: same path, hash,
    // input shape and T) and makes it current. `added` tells which happened.
    int64_t setModel(const ModelSource& model, bool* added = nullptr);
    std::vector<ModelSource> models() const;
    std::optional<ModelSource> model(int64_t id) const;

    void savePipeline(const std::string& name, const std::string& text); // insert or replace
    bool removePipeline(const std::string& name);
    std::vector<NamedPipeline> pipelines() const; // by name
    std::optional<NamedPipeline> pipeline(const std::string& name) const;

    int64_t addSweep(const std::string& description);
    std::vector<SweepInfo> sweeps() const;

    // Each returns the new run id. Pass rows, statistics and energy entries
    // go in with the run or not at all.
    int64_t addCompileRun(RunMeta meta, const CompileResult& result);
    int64_t addAccuracyRun(RunMeta meta, const AccuracyResult& result);
    int64_t addSimulationRun(RunMeta meta, const SimulationLedger& ledger);

    std::vector<RunMeta> listRuns(const RunFilter& filter = {}) const; // oldest first unless newestFirst
    std::optional<CompileRun> compileRun(int64_t id) const;
    std::optional<AccuracyRun> accuracyRun(int64_t id) const;
    std::optional<SimulationRun> simulationRun(int64_t id) const;
    // Deletes a run with its rows; measurements linked to a deleted compile
    // run are kept (their compileRunId becomes 0). Returns false if no such run.
    bool deleteRun(int64_t id);

    // Tags a successful compile run (e.g. "deployed"); false if it already
    // carries the tag. Throws Invalid for anything but a successful compile run.
    bool tagRun(int64_t compileRunId, const std::string& tag, const std::string& note = {});
    bool untagRun(int64_t compileRunId, const std::string& tag);
    // Tags of one run, or of all runs (runId 0), oldest first.
    std::vector<RunTag> tags(int64_t runId = 0) const;

    // Compile runs (filter.kind is ignored) with their linked measurements.
    std::vector<ConfigPoint> configurations(const RunFilter& filter = {}) const;
    // The configurations on the Pareto front of (x, y), sorted by x; each
    // metric in its natural direction (higherIsBetter). Configurations
    // lacking either metric are left out.
    std::vector<ConfigPoint> paretoFront(Metric x, Metric y, const RunFilter& filter = {}) const;

    // Runs `fn` in one transaction: all writes it makes through this Project
    // are committed together, or none if it throws (the exception propagates).
    void transaction(const std::function<void()>& fn);

    // A consistent copy of the whole project at `path` (File > Save As);
    // refuses an existing path.
    void copyTo(const std::string& path) const;

private:
    Project(std::unique_ptr<sql::Db> db, std::string path, bool readOnly);
    void requireWritable() const;
    RunMeta readMeta(int64_t id, RunKind kind) const;
    int64_t insertRun(RunMeta& meta, RunKind kind);

    std::unique_ptr<sql::Db> db_;
    std::string path_;
    bool readOnly_ = false;
};

// "2025-11-25T22:34:01.123Z"
std::string utcNow();

} // namespace stc::store
