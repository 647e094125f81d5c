#include "deployment_writer.h"

#include "target/cost_model.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>

namespace stc::plugins {

using namespace stc::target;

QString coreLabel(const DeploymentSpec& spec, const CoreCoord& c, bool multiChip)
{
    QString s = QString("%1(%2,%3).%4%5").arg(spec.tileUnit).arg(c.tileX).arg(c.tileY).arg(spec.coreUnit).arg(c.core);
    return multiChip ? QString("chip%1.").arg(c.chip) + s : s;
}

namespace {

bool writeFile(const QString& path, const QByteArray& bytes, std::string* error)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(bytes) != bytes.size()) {
        *error = "cannot write " + path.toStdString() + ": " + f.errorString().toStdString();
        return false;
    }
    return true;
}

QJsonArray toArray(const std::vector<int64_t>& v)
{
    QJsonArray a;
    for (int64_t x : v)
        a.append(qint64(x));
    return a;
}

} // namespace

bool writeDeployment(const DeploymentSpec& spec, const Network& net, const Mapping& mapping,
                     const ChipDescriptor& chip, const std::string& pipeline, const std::string& outDir,
                     std::string* listing, std::string* error)
{
    std::string scratch;
    if (!error)
        error = &scratch;
    const QString dirPath = QString::fromStdString(outDir);
    QDir dir(dirPath);
    if (QFileInfo(dirPath).exists()) {
        // Replace only what we wrote before: a directory with our manifest.
        QFile old(dir.filePath("manifest.json"));
        const bool ours = old.open(QIODevice::ReadOnly) &&
                          QJsonDocument::fromJson(old.readAll()).object().value("format").toString() == spec.format;
        if (!QFileInfo(dirPath).isDir() || (!ours && !dir.isEmpty())) {
            *error = "refusing to overwrite " + outDir + ": it exists and is not a " + spec.format.toStdString() +
                     " deployment directory";
            return false;
        }
        if (!dir.removeRecursively()) {
            *error = "cannot remove the old deployment directory " + outDir;
            return false;
        }
    }
    if (!QDir().mkpath(dirPath)) {
        *error = "cannot create " + outDir;
        return false;
    }
    const bool multiChip = mapping.chipsUsed > 1;

    // Layers: populations with the cores they occupy.
    std::vector<QJsonArray> popCores(net.populations.size());
    for (size_t c = 0; c < mapping.cores.size(); ++c)
        for (int32_t s : mapping.cores[c].slices)
            popCores[size_t(mapping.slices[size_t(s)].pop)].append(qint64(c));
    QJsonArray layers;
    for (size_t p = 0; p < net.populations.size(); ++p) {
        const Population& pop = net.populations[p];
        QJsonObject o{{"name", QString::fromStdString(pop.name)},
                      {"origin", QString::fromStdString(pop.origin)},
                      {"kind", toString(pop.kind)},
                      {"neuron_model", QString::fromStdString(pop.neuron.model)},
                      {"neurons", qint64(pop.size())},
                      {"spike_bits", pop.spikeBits},
                      {"cores", popCores[p]}};
        if (spec.layerExtra)
            spec.layerExtra(int32_t(p), o);
        layers.append(o);
    }

    QJsonArray cores;
    for (size_t c = 0; c < mapping.cores.size(); ++c) {
        const CoreAssignment& a = mapping.cores[c];
        QJsonArray slices;
        for (int32_t s : a.slices) {
            const Slice& sl = mapping.slices[size_t(s)];
            slices.append(QJsonObject{{"layer", QString::fromStdString(net.populations[size_t(sl.pop)].name)},
                                      {"features", QJsonArray{qint64(sl.f0), qint64(sl.f1)}},
                                      {"positions_lo", toArray(sl.lo)},
                                      {"positions_hi", toArray(sl.hi)},
                                      {"neurons", qint64(sl.neurons())}});
        }
        QJsonObject o{{"index", qint64(c)},
                      {"label", coreLabel(spec, a.coord, multiChip)},
                      {"chip", a.coord.chip},
                      {"tile", QJsonArray{a.coord.tileX, a.coord.tileY}},
                      {"core", a.coord.core},
                      {"slices", slices},
                      {"usage", QJsonObject{{"neurons", qint64(a.usage.neurons)},
                                            {"fan_in_axons", qint64(a.usage.fanInAxons)},
                                            {"fan_out_axons", qint64(a.usage.fanOutAxons)},
                                            {"synaptic_bytes", qint64(a.usage.synapticBytes)},
                                            {"state_bytes", qint64(a.usage.stateBytes)},
                                            {"synaptic_ops_per_step", a.usage.synOpsPerStep},
                                            {"spikes_out_per_step", a.usage.spikesOutPerStep}}},
                      {"binding_resource", toString(a.utilization.binding)},
                      {"binding_utilization", a.utilization.bindingValue()}};
        if (spec.coreExtra)
            spec.coreExtra(c, o);
        cores.append(o);
    }

    const Estimate est = estimateCost(net, mapping, chip);
    std::string text = formatSummary(net, mapping, est, chip);
    text += "\ncores:\n";
    for (size_t c = 0; c < mapping.cores.size(); ++c) {
        const CoreAssignment& a = mapping.cores[c];
        QString names;
        for (int32_t s : a.slices) {
            const Slice& sl = mapping.slices[size_t(s)];
            names += (names.isEmpty() ? "" : ", ") + QString::fromStdString(net.populations[size_t(sl.pop)].name) +
                     QString("[%1]").arg(qint64(sl.neurons()));
        }
        QString line = QString("  %1  %2 neurons, %3 B synapses, %4 fan-in axons  %5")
                           .arg(coreLabel(spec, a.coord, multiChip), -16)
                           .arg(qint64(a.usage.neurons), 6)
                           .arg(qint64(a.usage.synapticBytes), 8)
                           .arg(qint64(a.usage.fanInAxons), 6)
                           .arg(names);
        if (spec.coreListingExtra)
            line += "  " + spec.coreListingExtra(c);
        text += line.toStdString() + "\n";
    }

    QJsonObject manifest{{"format", spec.format},
                         {"target", spec.target},
                         {"chip", QString::fromStdString(chip.id)},
                         {"chip_name", QString::fromStdString(chip.name)},
                         {"projected_chip", chip.projectedChip},
                         {"projected_constants", chip.projectedCount()},
                         {"model", QString::fromStdString(net.model)},
                         {"pipeline", QString::fromStdString(pipeline)},
                         {"timesteps", qint64(net.timesteps)},
                         {"quantized", net.quantized},
                         {"chips_used", mapping.chipsUsed},
                         {"cores_used", qint64(mapping.cores.size())},
                         {"core_unit", spec.coreUnit},
                         {"tile_unit", spec.tileUnit},
                         {"neurons", qint64(net.neuronCount())},
                         {"synapses", qint64(net.synapseCount())},
                         {"routes", qint64(mapping.routes.size())},
                         {"step_time_ns_estimate", mapping.stepTimeNs},
                         {"energy_uj_per_inference_estimate", est.totalPj() * 1e-6},
                         {"latency_ns_estimate", est.latencyNs},
                         {"layers", layers},
                         {"files", QJsonArray{"manifest.json", "cores.json", "chip.json", "listing.txt"}}};
    if (spec.manifestExtra)
        spec.manifestExtra(manifest);

    return writeFile(dir.filePath("manifest.json"), QJsonDocument(manifest).toJson(QJsonDocument::Indented), error) &&
           writeFile(dir.filePath("cores.json"), QJsonDocument(QJsonObject{{"format", spec.format}, {"cores", cores}})
                                                      .toJson(QJsonDocument::Indented),
                     error) &&
           writeFile(dir.filePath("chip.json"), QByteArray::fromStdString(chip.sourceText), error) &&
           writeFile(dir.filePath("listing.txt"), QByteArray::fromStdString(text), error) &&
           (listing ? (*listing = text, true) : true);
}

} // namespace stc::plugins
