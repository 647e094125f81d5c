#include "explorer/explorer_model.h"

#include "common/theme.h"

#include <QApplication>
#include <QFont>
#include <QPalette>

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <cmath>
#include <limits>
#include <set>

namespace stc::views {

namespace {

QString param(const store::RunMeta& m, const char* name)
{
    auto it = m.params.find(name);
    return it == m.params.end() ? QString() : QString::fromStdString(it->second);
}

// Shortest digits that read back to the same double; plain notation for
// ordinary magnitudes (400000, not 4e+05).
QString number(double v)
{
    char buf[128];
    const double a = std::abs(v);
    auto r = (a == 0 || (a >= 1e-4 && a < 1e15)) ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
                                                 : std::to_chars(buf, buf + sizeof buf, v);
    return QString::fromLatin1(buf, int(r.ptr - buf));
}

QString csvField(QString s)
{
    if (s.contains(',') || s.contains('"') || s.contains('\n')) {
        s.replace("\"", "\"\"");
        return '"' + s + '"';
    }
    return s;
}

QString scaled(double v, std::initializer_list<std::pair<double, const char*>> units)
{
    std::pair<double, const char*> unit = *units.begin();
    for (const auto& u : units)
        if (std::abs(v) >= u.first)
            unit = u;
    const double x = v / unit.first;
    return QString("%1 %2").arg(x, 0, 'f', x >= 100 ? 1 : (x >= 10 ? 2 : 3)).arg(QString::fromUtf8(unit.second));
}

QString frontText(const ExplorerRow& r)
{
    QStringList s;
    if (r.onEnergyFront)
        s << "energy";
    if (r.onLatencyFront)
        s << "latency";
    return s.join(", ");
}

QString statusText(const ExplorerRow& r)
{
    const auto& c = r.point.compile;
    if (c.status != store::CompileStatus::Ok)
        return QString::fromUtf8(store::toString(c.status));
    if (!c.mapped)
        return "not mapped";
    return c.projectedChip ? "ok (projected chip)" : "ok";
}

} // namespace

QString accuracyText(std::optional<double> f) { return f ? QString("%1 %").arg(*f * 100, 0, 'f', 2) : QString("—"); }
QString energyText(std::optional<double> pj)
{
    return pj ? scaled(*pj, {{1, "pJ"}, {1e3, "nJ"}, {1e6, "µJ"}, {1e9, "mJ"}}) : QString("—");
}
QString latencyText(std::optional<double> ns)
{
    return ns ? scaled(*ns, {{1, "ns"}, {1e3, "µs"}, {1e6, "ms"}, {1e9, "s"}}) : QString("—");
}

QString configurationText(const store::RunMeta& meta)
{
    static const std::set<std::string> bookkeeping{"sparsity-achieved", "prune-mode", "calibration", "halving"};
    QStringList parts;
    for (const char* n : {"bits", "sparsity"})
        if (const QString v = param(meta, n); !v.isEmpty())
            parts << QString("%1=%2").arg(n, v);
    for (const auto& [k, v] : meta.params)
        if (k != "bits" && k != "sparsity" && !bookkeeping.contains(k))
            parts << QString::fromStdString(k + "=" + v);
    return parts.isEmpty() ? QString::fromStdString(meta.label) : parts.join(' ');
}

ExplorerModel::ExplorerModel(QObject* parent) : QAbstractTableModel(parent) {}

void ExplorerModel::setSnapshot(std::shared_ptr<const ProjectSnapshot> snapshot)
{
    beginResetModel();
    snap_ = std::move(snapshot);
    endResetModel();
}

const ExplorerRow* ExplorerModel::rowAt(int row) const
{
    return snap_ && row >= 0 && row < int(snap_->rows.size()) ? &snap_->rows[size_t(row)] : nullptr;
}

int ExplorerModel::rowOf(int64_t runId) const
{
    if (snap_)
        for (size_t i = 0; i < snap_->rows.size(); ++i)
            if (snap_->rows[i].point.meta.id == runId)
                return int(i);
    return -1;
}

int ExplorerModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() || !snap_ ? 0 : int(snap_->rows.size());
}

int ExplorerModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ExplorerModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount)
        return {};
    static const char* names[] = {"Run",   "Sweep",         "Bits",           "Sparsity", "Top-1",
                                  "Energy / inf.", "Latency / inf.", "Sim energy", "Sim latency", "Cores",
                                  "Pareto", "Tags", "Pipeline", "Chip", "Status"};
    static const char* tips[] = {
        "Compile run id in the project",
        "Sweep the run belongs to (stc sweep)",
        "quantize{bits=…} of the sweep configuration",
        "prune{sparsity=…} of the sweep configuration (achieved sparsity in the tooltip)",
        "Top-1 accuracy of the latest accuracy run linked to the configuration (images and execution path in the tooltip)",
        "Energy per inference: cost-model estimate of the mapping (not measured)",
        "Latency per inference: cost-model estimate of the mapping (not measured)",
        "Energy per inference measured by the chip simulator (latest simulation run linked to the configuration)",
        "Latency per inference measured by the chip simulator (latest simulation run linked to the configuration)",
        "Neuromorphic cores used",
        "On the Pareto front of energy vs accuracy and/or latency vs accuracy (store::Project::paretoFront)",
        "Tags (e.g. deployed)",
        "IR part of the pipeline as run; double-click a row to load it into the Pass Pipeline panel",
        "Target chip of the mapping",
        "Compile status",
    };
    if (role == Qt::DisplayRole)
        return QString::fromUtf8(names[section]);
    if (role == Qt::ToolTipRole)
        return QString::fromUtf8(tips[section]);
    return {};
}

QVariant ExplorerModel::data(const QModelIndex& index, int role) const
{
    const ExplorerRow* r = index.isValid() ? rowAt(index.row()) : nullptr;
    if (!r || index.column() < 0 || index.column() >= ColumnCount)
        return {};
    const store::ConfigPoint& p = r->point;
    const auto acc = p.value(store::Metric::Accuracy);
    const auto energy = p.value(store::Metric::EnergyPj);
    const auto latency = p.value(store::Metric::LatencyNs);
    const auto cores = p.value(store::Metric::Cores);
    const int col = index.column();
    if (role == RunIdRole)
        return QVariant::fromValue<qlonglong>(p.meta.id);
    if (role == SortRole) {
        // Missing values sort before every present one.
        auto num = [](std::optional<double> v) { return v ? *v : -std::numeric_limits<double>::infinity(); };
        auto paramNum = [&](const char* n) {
            const QString v = param(p.meta, n);
            return v.isEmpty() ? -std::numeric_limits<double>::infinity() : v.toDouble();
        };
        switch (col) {
        case Run: return double(p.meta.id);
        case Sweep: return double(p.meta.sweepId);
        case Bits: return paramNum("bits");
        case Sparsity: return paramNum("sparsity");
        case Accuracy: return num(acc);
        case Energy: return num(energy);
        case Latency: return num(latency);
        case SimEnergy: return num(p.simEnergyPj);
        case SimLatency: return num(p.simLatencyNs);
        case Cores: return num(cores);
        case Pareto: return double(r->onEnergyFront) * 2 + double(r->onLatencyFront);
        default: return data(index, Qt::DisplayRole);
        }
    }
    if (role == Qt::DisplayRole) {
        switch (col) {
        case Run: return QVariant::fromValue<qlonglong>(p.meta.id);
        case Sweep: return p.meta.sweepId ? QVariant::fromValue<qlonglong>(p.meta.sweepId) : QVariant(QString("—"));
        case Bits: return param(p.meta, "bits");
        case Sparsity: return param(p.meta, "sparsity");
        case Pipeline:
            return r->irPipeline.empty() ? QString::fromStdString(p.meta.pipeline) : QString::fromStdString(r->irPipeline);
        case Chip: return QString::fromStdString(p.meta.chip);
        case Accuracy: return accuracyText(acc);
        case Energy: return energyText(energy);
        case Latency: return latencyText(latency);
        case SimEnergy: return energyText(p.simEnergyPj);
        case SimLatency: return latencyText(p.simLatencyNs);
        case Cores: return cores ? QVariant::fromValue<qlonglong>(qlonglong(*cores)) : QVariant(QString("—"));
        case Pareto: return frontText(*r);
        case Tags: return QString::fromStdString([&] {
            std::string s;
            for (const auto& t : r->tags)
                s += (s.empty() ? "" : ", ") + t;
            return s;
        }());
        case Status: return statusText(*r);
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (col) {
        case Sparsity: {
            const QString a = param(p.meta, "sparsity-achieved");
            return a.isEmpty() ? QVariant() : QVariant(QString("achieved sparsity %1").arg(a));
        }
        case Pipeline: return QString::fromStdString(p.meta.pipeline) + "\n(full pipeline as run)";
        case Accuracy:
            return p.accuracy ? QVariant(QString("%1 of %2 %3 images (%4 path, accuracy run %5)")
                                             .arg(p.accuracy->correct)
                                             .arg(p.accuracy->samples)
                                             .arg(QString::fromStdString(p.accuracy->dataset + " " + p.accuracy->split))
                                             .arg(QString::fromUtf8(store::toString(p.accuracy->path)))
                                             .arg(p.accuracyRunId))
                              : QVariant("no accuracy run linked to this configuration");
        case Status:
            return p.compile.mapped ? QVariant() : QVariant(QString::fromStdString(p.compile.notMappedReason));
        default: return {};
        }
    }
    if (role == Qt::TextAlignmentRole) {
        if (col == Run || col == Sweep || col == Bits || col == Sparsity || col == Accuracy || col == Energy ||
            col == Latency || col == SimEnergy || col == SimLatency || col == Cores)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    }
    if (role == Qt::FontRole && (r->onEnergyFront || r->onLatencyFront) && col == Pareto) {
        QFont f = QApplication::font();
        f.setBold(true);
        return f;
    }
    if (role == Qt::ForegroundRole && (p.compile.status != store::CompileStatus::Ok || !p.compile.mapped))
        return QApplication::palette().color(QPalette::PlaceholderText);
    return {};
}

QString ExplorerModel::toCsv() const
{
    QStringList lines;
    lines << "run,sweep,bits,sparsity,sparsity_achieved,pipeline,full_pipeline,chip,status,mapped,accuracy,correct,"
             "samples,energy_pj,latency_ns,sim_energy_pj,sim_latency_ns,cores,utilization,pareto_energy_accuracy,"
             "pareto_latency_accuracy,tags";
    if (!snap_)
        return lines.join('\n') + '\n';
    auto opt = [](std::optional<double> v) { return v ? number(*v) : QString(); };
    for (const ExplorerRow& r : snap_->rows) {
        const store::ConfigPoint& p = r.point;
        QStringList tags;
        for (const auto& t : r.tags)
            tags << QString::fromStdString(t);
        QStringList f;
        f << QString::number(p.meta.id) << (p.meta.sweepId ? QString::number(p.meta.sweepId) : QString())
          << param(p.meta, "bits") << param(p.meta, "sparsity") << param(p.meta, "sparsity-achieved")
          << QString::fromStdString(r.irPipeline) << QString::fromStdString(p.meta.pipeline)
          << QString::fromStdString(p.meta.chip) << QString::fromUtf8(store::toString(p.compile.status))
          << (p.compile.mapped ? "1" : "0") << opt(p.value(store::Metric::Accuracy))
          << (p.accuracy ? QString::number(p.accuracy->correct) : QString())
          << (p.accuracy ? QString::number(p.accuracy->samples) : QString()) << opt(p.value(store::Metric::EnergyPj))
          << opt(p.value(store::Metric::LatencyNs)) << opt(p.simEnergyPj) << opt(p.simLatencyNs)
          << opt(p.value(store::Metric::Cores))
          << opt(p.value(store::Metric::Utilization)) << (r.onEnergyFront ? "1" : "0") << (r.onLatencyFront ? "1" : "0")
          << tags.join(';');
        for (QString& s : f)
            s = csvField(s);
        lines << f.join(',');
    }
    return lines.join('\n') + '\n';
}

} // namespace stc::views
