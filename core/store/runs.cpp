// Project: the run history (compile, accuracy, simulation) and the
// configuration view used for trade-off tables and the Pareto front.
#include "store/project.h"

#include "store/sqlite_db.h"

#ifndef STC_VERSION
#define STC_VERSION "0.0.0"
#endif

namespace stc::store {

const char* toString(RunKind k)
{
    switch (k) {
    case RunKind::Compile: return "compile";
    case RunKind::Accuracy: return "accuracy";
    case RunKind::Simulation: return "simulation";
    }
    return "?";
}

std::optional<RunKind> parseRunKind(std::string_view s)
{
    for (RunKind k : {RunKind::Compile, RunKind::Accuracy, RunKind::Simulation})
        if (s == toString(k))
            return k;
    return std::nullopt;
}

const char* toString(CompileStatus s)
{
    switch (s) {
    case CompileStatus::Ok: return "ok";
    case CompileStatus::Failed: return "failed";
    case CompileStatus::Cancelled: return "cancelled";
    }
    return "?";
}

const char* toString(EvalPath p)
{
    switch (p) {
    case EvalPath::Float: return "float";
    case EvalPath::FixedPoint: return "fixed-point";
    case EvalPath::ChipSim: return "chip-sim";
    }
    return "?";
}

std::optional<double> ConfigPoint::value(Metric m) const
{
    const bool mapped = compile.mapped;
    switch (m) {
    case Metric::Accuracy: return accuracy ? std::optional<double>(accuracy->accuracy()) : std::nullopt;
    case Metric::EnergyPj: return mapped ? std::optional<double>(compile.energyPj) : std::nullopt;
    case Metric::LatencyNs: return mapped ? std::optional<double>(compile.latencyNs) : std::nullopt;
    case Metric::Cores: return mapped ? std::optional<double>(double(compile.coresUsed)) : std::nullopt;
    case Metric::Utilization: return mapped ? std::optional<double>(compile.utilization) : std::nullopt;
    case Metric::CompileSeconds: return compile.seconds;
    case Metric::SimEnergyPj: return simEnergyPj;
    case Metric::SimLatencyNs: return simLatencyNs;
    }
    return std::nullopt;
}

namespace {

template <typename E> E parseEnum(const std::string& s, std::initializer_list<E> all, const std::string& path)
{
    for (E e : all)
        if (s == toString(e))
            return e;
    throw Error(ErrorKind::Corrupt, path + ": unexpected value '" + s + "' in the project file");
}

constexpr const char* kMetaColumns =
    "r.id, r.kind, r.created_at, r.tool_version, r.model_id, r.chip, r.pipeline, r.label, r.sweep_id, r.compile_run_id";

RunMeta metaFromRow(const sql::Statement& st, const std::string& path)
{
    RunMeta m;
    m.id = st.int64(0);
    m.kind = parseEnum(st.text(1), {RunKind::Compile, RunKind::Accuracy, RunKind::Simulation}, path);
    m.createdAt = st.text(2);
    m.toolVersion = st.text(3);
    m.modelId = st.isNull(4) ? 0 : st.int64(4);
    m.chip = st.text(5);
    m.pipeline = st.text(6);
    m.label = st.text(7);
    m.sweepId = st.isNull(8) ? 0 : st.int64(8);
    m.compileRunId = st.isNull(9) ? 0 : st.int64(9);
    return m;
}

void loadParams(const sql::Db& db, RunMeta& m)
{
    sql::Statement st = db.prepare("SELECT name, value FROM run_params WHERE run_id = ?1");
    st.bind(1, m.id);
    while (st.step())
        m.params[st.text(0)] = st.text(1);
}

// WHERE clause and its bound values for a filter over runs aliased `r`.
struct Where {
    std::string sql = " WHERE 1";
    std::vector<std::variant<int64_t, std::string>> args;
    void add(const std::string& cond, std::variant<int64_t, std::string> v)
    {
        args.push_back(std::move(v));
        sql += " AND " + cond + " ?" + std::to_string(args.size());
    }
    void bind(sql::Statement& st) const
    {
        for (size_t i = 0; i < args.size(); ++i)
            std::visit([&](const auto& v) { st.bind(int(i + 1), v); }, args[i]);
    }
};

Where whereOf(const RunFilter& f, std::optional<RunKind> kind)
{
    Where w;
    if (kind)
        w.add("r.kind =", std::string(toString(*kind)));
    if (f.sweepId)
        w.add("r.sweep_id =", f.sweepId);
    if (f.modelId)
        w.add("r.model_id =", f.modelId);
    if (f.compileRunId)
        w.add("r.compile_run_id =", f.compileRunId);
    if (!f.chip.empty())
        w.add("r.chip =", f.chip);
    if (!f.runIds.empty()) {
        w.sql += " AND r.id IN (";
        for (size_t i = 0; i < f.runIds.size(); ++i) {
            w.args.push_back(f.runIds[i]);
            w.sql += (i ? ", ?" : "?") + std::to_string(w.args.size());
        }
        w.sql += ")";
    }
    return w;
}

std::string orderLimit(const RunFilter& f)
{
    std::string s = f.newestFirst ? " ORDER BY r.id DESC" : " ORDER BY r.id";
    if (f.limit > 0)
        s += " LIMIT " + std::to_string(f.limit);
    return s;
}

constexpr const char* kCompileColumns =
    "c.status, c.seconds, c.mapped, c.not_mapped_reason, c.cores_used, c.chips_used, c.utilization, "
    "c.utilization_with_time, c.step_time_ns, c.latency_ns, c.energy_pj, c.synaptic_pj, c.neuron_pj, c.network_pj, "
    "c.static_pj, c.baseline_pj, c.rates_measured, c.projected_chip, c.chip_sha256, c.package_path";

CompileResult compileFromRow(const sql::Statement& st, int c, const std::string& path)
{
    CompileResult r;
    r.status = parseEnum(st.text(c), {CompileStatus::Ok, CompileStatus::Failed, CompileStatus::Cancelled}, path);
    r.seconds = st.real(c + 1);
    r.mapped = st.int64(c + 2) != 0;
    r.notMappedReason = st.text(c + 3);
    r.coresUsed = st.int64(c + 4);
    r.chipsUsed = st.int64(c + 5);
    r.utilization = st.real(c + 6);
    r.utilizationWithTime = st.real(c + 7);
    r.stepTimeNs = st.real(c + 8);
    r.latencyNs = st.real(c + 9);
    r.energyPj = st.real(c + 10);
    r.synapticPj = st.real(c + 11);
    r.neuronPj = st.real(c + 12);
    r.networkPj = st.real(c + 13);
    r.staticPj = st.real(c + 14);
    r.baselinePj = st.real(c + 15);
    r.ratesMeasured = st.int64(c + 16) != 0;
    r.projectedChip = st.int64(c + 17) != 0;
    r.chipSha256 = st.text(c + 18);
    r.packagePath = st.text(c + 19);
    return r;
}

constexpr const char* kAccuracyColumns =
    "a.dataset, a.split, a.first_sample, a.samples, a.correct, a.exec_path, a.seconds";

AccuracyResult accuracyFromRow(const sql::Statement& st, int c, const std::string& path)
{
    AccuracyResult a;
    a.dataset = st.text(c);
    a.split = st.text(c + 1);
    a.firstSample = st.int64(c + 2);
    a.samples = st.int64(c + 3);
    a.correct = st.int64(c + 4);
    a.path = parseEnum(st.text(c + 5), {EvalPath::Float, EvalPath::FixedPoint, EvalPath::ChipSim}, path);
    a.seconds = st.real(c + 6);
    return a;
}

} // namespace

int64_t Project::insertRun(RunMeta& meta, RunKind kind)
{
    meta.kind = kind;
    if (meta.createdAt.empty())
        meta.createdAt = utcNow();
    if (meta.toolVersion.empty())
        meta.toolVersion = STC_VERSION;
    if (meta.modelId == 0)
        meta.modelId = db_->queryInt("SELECT coalesce(current_model_id, 0) FROM project WHERE id = 1");
    sql::Statement ins = db_->prepare("INSERT INTO runs (kind, created_at, tool_version, model_id, chip, pipeline, "
                                      "label, sweep_id, compile_run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    ins.bindAll(std::string(toString(kind)), meta.createdAt, meta.toolVersion, int64_t(0), meta.chip, meta.pipeline,
                meta.label);
    ins.bindId(4, meta.modelId).bindId(8, meta.sweepId).bindId(9, meta.compileRunId);
    ins.run();
    meta.id = db_->lastInsertId();
    sql::Statement param = db_->prepare("INSERT INTO run_params (run_id, name, value) VALUES (?1, ?2, ?3)");
    for (const auto& [name, value] : meta.params) {
        param.bindAll(meta.id, name, value);
        param.run();
    }
    return meta.id;
}

int64_t Project::addCompileRun(RunMeta meta, const CompileResult& r)
{
    requireWritable();
    sql::Transaction tx(*db_);
    const int64_t id = insertRun(meta, RunKind::Compile);
    sql::Statement ins = db_->prepare(
        "INSERT INTO compile_results (run_id, status, seconds, mapped, not_mapped_reason, cores_used, chips_used, "
        "utilization, utilization_with_time, step_time_ns, latency_ns, energy_pj, synaptic_pj, neuron_pj, network_pj, "
        "static_pj, baseline_pj, rates_measured, projected_chip, chip_sha256, package_path) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)");
    ins.bindAll(id, std::string(toString(r.status)), r.seconds, r.mapped, r.notMappedReason);
    ins.bind(20, r.chipSha256).bind(21, r.packagePath);
    if (r.mapped) {
        ins.bind(6, r.coresUsed).bind(7, r.chipsUsed);
        int i = 8;
        for (double v : {r.utilization, r.utilizationWithTime, r.stepTimeNs, r.latencyNs, r.energyPj, r.synapticPj,
                         r.neuronPj, r.networkPj, r.staticPj, r.baselinePj})
            ins.bind(i++, v);
        ins.bind(18, r.ratesMeasured).bind(19, r.projectedChip);
    } else {
        for (int i = 6; i <= 19; ++i)
            ins.bindNull(i);
    }
    ins.run();
    sql::Statement pass = db_->prepare("INSERT INTO pass_records (run_id, position, pass, entry, status, seconds, "
                                       "changed, diagnostics) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    sql::Statement stat = db_->prepare(
        "INSERT INTO pass_statistics (run_id, position, seq, name, value) VALUES (?1, ?2, ?3, ?4, ?5)");
    for (const PassRow& p : r.passes) {
        pass.bindAll(id, p.position, p.pass, p.entry, p.status, p.seconds, p.changed, p.diagnostics);
        pass.run();
        for (size_t k = 0; k < p.stats.size(); ++k) {
            stat.bindAll(id, p.position, int64_t(k), p.stats[k].name);
            std::visit([&](auto v) { stat.bind(5, v); }, p.stats[k].value);
            stat.run();
        }
    }
    tx.commit();
    return id;
}

int64_t Project::addAccuracyRun(RunMeta meta, const AccuracyResult& a)
{
    requireWritable();
    sql::Transaction tx(*db_);
    const int64_t id = insertRun(meta, RunKind::Accuracy);
    db_->prepare("INSERT INTO accuracy_results (run_id, dataset, split, first_sample, samples, correct, exec_path, "
                 "seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
        .bindAll(id, a.dataset, a.split, a.firstSample, a.samples, a.correct, std::string(toString(a.path)), a.seconds)
        .run();
    tx.commit();
    return id;
}

int64_t Project::addSimulationRun(RunMeta meta, const SimulationLedger& s)
{
    requireWritable();
    sql::Transaction tx(*db_);
    const int64_t id = insertRun(meta, RunKind::Simulation);
    db_->prepare("INSERT INTO simulation_results (run_id, simulator, samples, steps, step_time_ns, latency_ns, "
                 "energy_pj, seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
        .bindAll(id, s.simulator, s.samples, s.steps, s.stepTimeNs, s.latencyNs, s.energyPj, s.seconds)
        .run();
    sql::Statement e = db_->prepare(
        "INSERT INTO simulation_energy (run_id, layer, event, count, energy_pj) VALUES (?1, ?2, ?3, ?4, ?5)");
    for (const EnergyEntry& x : s.entries) {
        e.bindAll(id, x.layer, x.event, x.count, x.energyPj);
        e.run();
    }
    tx.commit();
    return id;
}

RunMeta Project::readMeta(int64_t id, RunKind kind) const
{
    sql::Statement st = db_->prepare(std::string("SELECT ") + kMetaColumns + " FROM runs r WHERE r.id = ?1");
    st.bind(1, id);
    if (!st.step())
        throw Error(ErrorKind::Invalid, path_ + ": no run " + std::to_string(id));
    RunMeta m = metaFromRow(st, path_);
    if (m.kind != kind)
        throw Error(ErrorKind::Invalid, path_ + ": run " + std::to_string(id) + " is a " + toString(m.kind) +
                                            " run, not a " + toString(kind) + " run");
    loadParams(*db_, m);
    return m;
}

std::vector<RunMeta> Project::listRuns(const RunFilter& filter) const
{
    const Where w = whereOf(filter, filter.kind);
    sql::Statement st = db_->prepare(std::string("SELECT ") + kMetaColumns + " FROM runs r" + w.sql + orderLimit(filter));
    w.bind(st);
    std::vector<RunMeta> out;
    while (st.step())
        out.push_back(metaFromRow(st, path_));
    for (auto& m : out)
        loadParams(*db_, m);
    return out;
}

std::optional<CompileRun> Project::compileRun(int64_t id) const
{
    sql::Statement st =
        db_->prepare(std::string("SELECT ") + kCompileColumns + " FROM compile_results c WHERE c.run_id = ?1");
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    CompileRun run{readMeta(id, RunKind::Compile), compileFromRow(st, 0, path_)};
    sql::Statement passes = db_->prepare("SELECT position, pass, entry, status, seconds, changed, diagnostics "
                                         "FROM pass_records WHERE run_id = ?1 ORDER BY position");
    passes.bind(1, id);
    while (passes.step())
        run.result.passes.push_back({int(passes.int64(0)), passes.text(1), passes.text(2), passes.text(3),
                                     passes.real(4), passes.int64(5) != 0, passes.text(6), {}});
    sql::Statement stats = db_->prepare(
        "SELECT position, name, value FROM pass_statistics WHERE run_id = ?1 ORDER BY position, seq");
    stats.bind(1, id);
    size_t row = 0;
    while (stats.step()) {
        const int pos = int(stats.int64(0));
        while (row < run.result.passes.size() && run.result.passes[row].position != pos)
            ++row;
        if (row == run.result.passes.size())
            throw Error(ErrorKind::Corrupt, path_ + ": statistics of a missing pass record");
        StatValue v = stats.isInteger(2) ? StatValue(stats.int64(2)) : StatValue(stats.real(2));
        run.result.passes[row].stats.push_back({stats.text(1), v});
    }
    return run;
}

std::optional<AccuracyRun> Project::accuracyRun(int64_t id) const
{
    sql::Statement st =
        db_->prepare(std::string("SELECT ") + kAccuracyColumns + " FROM accuracy_results a WHERE a.run_id = ?1");
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    return AccuracyRun{readMeta(id, RunKind::Accuracy), accuracyFromRow(st, 0, path_)};
}

std::optional<SimulationRun> Project::simulationRun(int64_t id) const
{
    sql::Statement st = db_->prepare("SELECT simulator, samples, steps, step_time_ns, latency_ns, energy_pj, seconds "
                                     "FROM simulation_results WHERE run_id = ?1");
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    SimulationRun run{readMeta(id, RunKind::Simulation), {}};
    SimulationLedger& s = run.result;
    s.simulator = st.text(0);
    s.samples = st.int64(1);
    s.steps = st.int64(2);
    s.stepTimeNs = st.real(3);
    s.latencyNs = st.real(4);
    s.energyPj = st.real(5);
    s.seconds = st.real(6);
    sql::Statement e = db_->prepare(
        "SELECT layer, event, count, energy_pj FROM simulation_energy WHERE run_id = ?1 ORDER BY layer, event");
    e.bind(1, id);
    while (e.step())
        s.entries.push_back({e.text(0), e.text(1), e.int64(2), e.real(3)});
    return run;
}

bool Project::deleteRun(int64_t id)
{
    requireWritable();
    sql::Transaction tx(*db_);
    db_->prepare("DELETE FROM runs WHERE id = ?1").bind(1, id).run();
    const bool removed = db_->changes() > 0;
    tx.commit();
    return removed;
}

bool Project::tagRun(int64_t compileRunId, const std::string& tag, const std::string& note)
{
    requireWritable();
    if (tag.empty())
        throw Error(ErrorKind::Invalid, path_ + ": a tag needs a name");
    sql::Transaction tx(*db_);
    sql::Statement st = db_->prepare("SELECT status FROM compile_results WHERE run_id = ?1");
    st.bind(1, compileRunId);
    if (!st.step())
        throw Error(ErrorKind::Invalid, path_ + ": run " + std::to_string(compileRunId) + " is not a compile run");
    if (st.text(0) != toString(CompileStatus::Ok))
        throw Error(ErrorKind::Invalid, path_ + ": compile run " + std::to_string(compileRunId) + " " + st.text(0) +
                                            "; only a successful compile can be tagged");
    db_->prepare("INSERT INTO run_tags (run_id, tag, note, created_at, tool_version) VALUES (?1, ?2, ?3, ?4, ?5) "
                 "ON CONFLICT (run_id, tag) DO NOTHING")
        .bindAll(compileRunId, tag, note, utcNow(), std::string(STC_VERSION))
        .run();
    const bool added = db_->changes() > 0;
    tx.commit();
    return added;
}

bool Project::untagRun(int64_t compileRunId, const std::string& tag)
{
    requireWritable();
    db_->prepare("DELETE FROM run_tags WHERE run_id = ?1 AND tag = ?2").bindAll(compileRunId, tag).run();
    return db_->changes() > 0;
}

std::vector<RunTag> Project::tags(int64_t runId) const
{
    sql::Statement st = db_->prepare("SELECT run_id, tag, note, created_at, tool_version FROM run_tags "
                                     "WHERE ?1 = 0 OR run_id = ?1 ORDER BY created_at, run_id, tag");
    st.bind(1, runId);
    std::vector<RunTag> out;
    while (st.step())
        out.push_back({st.int64(0), st.text(1), st.text(2), st.text(3), st.text(4)});
    return out;
}

std::vector<ConfigPoint> Project::configurations(const RunFilter& filter) const
{
    const Where w = whereOf(filter, RunKind::Compile);
    const std::string q =
        std::string("SELECT ") + kMetaColumns + ", " + kCompileColumns +
        ", (SELECT ra.id FROM runs ra JOIN accuracy_results a ON a.run_id = ra.id WHERE ra.compile_run_id = r.id "
        "ORDER BY ra.id DESC LIMIT 1)"
        ", (SELECT rs.id FROM runs rs JOIN simulation_results s ON s.run_id = rs.id WHERE rs.compile_run_id = r.id "
        "ORDER BY rs.id DESC LIMIT 1)"
        " FROM runs r JOIN compile_results c ON c.run_id = r.id" +
        w.sql + orderLimit(filter);
    sql::Statement st = db_->prepare(q);
    w.bind(st);
    std::vector<ConfigPoint> out;
    while (st.step()) {
        ConfigPoint p;
        p.meta = metaFromRow(st, path_);
        p.compile = compileFromRow(st, 10, path_);
        p.accuracyRunId = st.isNull(30) ? 0 : st.int64(30);
        p.simulationRunId = st.isNull(31) ? 0 : st.int64(31);
        out.push_back(std::move(p));
    }
    sql::Statement acc =
        db_->prepare(std::string("SELECT ") + kAccuracyColumns + " FROM accuracy_results a WHERE a.run_id = ?1");
    sql::Statement sim = db_->prepare("SELECT energy_pj, latency_ns FROM simulation_results WHERE run_id = ?1");
    for (auto& p : out) {
        loadParams(*db_, p.meta);
        if (p.accuracyRunId) {
            acc.bind(1, p.accuracyRunId);
            if (acc.step())
                p.accuracy = accuracyFromRow(acc, 0, path_);
            acc.reset();
        }
        if (p.simulationRunId) {
            sim.bind(1, p.simulationRunId);
            if (sim.step()) {
                p.simEnergyPj = sim.real(0);
                p.simLatencyNs = sim.real(1);
            }
            sim.reset();
        }
    }
    return out;
}

std::vector<ConfigPoint> Project::paretoFront(Metric x, Metric y, const RunFilter& filter) const
{
    std::vector<ConfigPoint> all = configurations(filter);
    std::vector<ConfigPoint> withBoth;
    std::vector<XY> xy;
    for (auto& p : all) {
        const auto vx = p.value(x), vy = p.value(y);
        if (vx && vy) {
            xy.push_back({*vx, *vy});
            withBoth.push_back(std::move(p));
        }
    }
    std::vector<ConfigPoint> front;
    for (size_t i : store::paretoFront(xy, higherIsBetter(x), higherIsBetter(y)))
        front.push_back(withBoth[i]);
    return front;
}

} // namespace stc::store
