// The SpiNNaker 2 backend plugin: a deployment description per processing
// element (PE, an ARM Cortex-M4F with 128 KB SRAM; 4 PEs per QPE). Neurons
// and synapses are software on SpiNNaker 2, so the descriptor-driven check
// (layer_check.h) is the whole constraint check: every STC neuron model is
// assumed implementable as a PE program; what does not fit a PE's SRAM is a
// mapping error with its numbers. Layout: docs/backends.md.
#include "deployment_writer.h"
#include "plugin_interfaces.h"

#include <QJsonArray>
#include <QObject>

#include <set>

namespace {

using namespace stc::target;

class SpiNNaker2Backend : public Backend {
public:
    std::string name() const override { return "spinnaker2"; }
    std::vector<std::string> chips() const override { return {"spinnaker2"}; }

    bool emitPackage(const Network& net, const Mapping& mapping, const ChipDescriptor& chip,
                     const std::string& pipeline, const std::string& outDir, std::string* listing,
                     std::string* error) override
    {
        const int64_t sram = chip.limits.coreMemoryBytes;
        // The PE programs a core runs: one per distinct neuron model on it.
        auto programs = [&](size_t c) {
            std::set<std::string> models;
            for (int32_t s : mapping.cores[c].slices)
                models.insert(net.populations[size_t(mapping.slices[size_t(s)].pop)].neuron.model);
            return models;
        };
        stc::plugins::DeploymentSpec spec;
        spec.format = "stc.spinnaker2/1";
        spec.target = "spinnaker2";
        spec.coreUnit = "PE";
        spec.tileUnit = "QPE";
        spec.coreExtra = [&](size_t c, QJsonObject& o) {
            const Usage& u = mapping.cores[c].usage;
            const int64_t used = u.synapticBytes + u.stateBytes;
            QJsonArray progs;
            for (const auto& m : programs(c))
                progs.append(QString::fromStdString("neuron_" + m));
            o["programs"] = progs;
            o["sram_bytes"] = QJsonObject{{"synapses", qint64(u.synapticBytes)},
                                          {"neuron_state", qint64(u.stateBytes)},
                                          {"total_modelled", qint64(used)},
                                          {"pe_sram", qint64(sram)},
                                          {"free_for_code_and_stack", qint64(sram - used)}};
        };
        spec.coreListingExtra = [&](size_t c) {
            const Usage& u = mapping.cores[c].usage;
            QString progs;
            for (const auto& m : programs(c))
                progs += (progs.isEmpty() ? "" : "+") + QString::fromStdString(m);
            return QString("SRAM %1/%2 KB  program %3")
                .arg(double(u.synapticBytes + u.stateBytes) / 1024.0, 0, 'f', 1)
                .arg(sram / 1024)
                .arg(progs);
        };
        spec.manifestExtra = [&](QJsonObject& o) {
            o["runtime"] = QJsonObject{
                {"pe", "ARM Cortex-M4F, 128 KB SRAM (SpiNNaker2 datasheet v0.03)"},
                {"pes_per_qpe", chip.coresPerTile},
                {"status", "description only: PE programs are named, not generated; no loadable binaries for the "
                           "SpiNNaker 2 runtime yet (ROADMAP.md)"}};
        };
        return stc::plugins::writeDeployment(spec, net, mapping, chip, pipeline, outDir, listing, error);
    }
};

} // namespace

class SpiNNaker2BackendPlugin : public QObject, public stc::plugins::BackendPlugin {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID "org.stc.Backend/5" FILE "meta.json")
    Q_INTERFACES(stc::plugins::BackendPlugin)
public:
    std::unique_ptr<Backend> createBackend() override { return std::make_unique<SpiNNaker2Backend>(); }
};

#include "spinnaker2_backend_plugin.moc"
