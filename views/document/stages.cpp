#include "document/stages.h"

#include "interop/nir_hdf5.h"
#include "interop/nir_import.h"

#include "plugin_host.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"

#include <charconv>

namespace stc::views {

std::vector<int64_t> sidecarInputShape(const std::string& modelPath)
{
    QString base = QString::fromStdString(modelPath);
    QStringList candidates{base + ".ref.json"};
    for (const QString& ext : {QStringLiteral(".traced.pt"), QStringLiteral(".pt"), QStringLiteral(".pth")})
        if (base.endsWith(ext))
            candidates << base.left(base.size() - ext.size()) + ".ref.json";
    for (const QString& c : candidates) {
        QFile f(c);
        if (!f.open(QIODevice::ReadOnly))
            continue;
        const QJsonArray arr = QJsonDocument::fromJson(f.readAll()).object().value("input_shape").toArray();
        std::vector<int64_t> shape;
        for (const auto& v : arr)
            shape.push_back(v.toInteger());
        if (!shape.empty())
            return shape;
    }
    return {};
}

namespace {

bool nirHasDt(const interop::NirGraph& g)
{
    const interop::NirArray* dt = g.metadata.array("stc_dt");
    return dt && dt->values.size() == 1;
}

// "T = 12 (given when opening), dt = 0.000244140625 s (the file's stc_dt)".
std::string nirSettingsNote(const interop::NirGraph& g, const NirOpenAnswers& nir, const ir::Module& m)
{
    const double dt = nir.dt ? *nir.dt : g.metadata.array("stc_dt")->values[0];
    return "T = " + std::to_string(m.timesteps) + (nir.timesteps ? " (given when opening)" : " (the file's stc_timesteps)") +
           ", dt = " + formatNirDt(dt).toStdString() + " s" + (nir.dt ? " (given when opening)" : " (the file's stc_dt)");
}

} // namespace

QString formatNirDt(double dt)
{
    char buf[64];
    const bool fixed = dt >= 1e-7 && dt < 1e7; // at most ~24 characters, and no "1e-04"
    const auto r = fixed ? std::to_chars(buf, buf + sizeof buf, dt, std::chars_format::fixed)
                         : std::to_chars(buf, buf + sizeof buf, dt); // shortest text that reads back exactly
    return QString::fromLatin1(buf, int(r.ptr - buf));
}

LoadOutcome loadModelFile(const std::string& path, const std::vector<int64_t>& inputShape,
                          const std::atomic<bool>* cancel, std::function<void(double, const std::string&)> progress,
                          const NirOpenAnswers& nir)
{
    LoadOutcome out;
    QElapsedTimer timer;
    timer.start();
    const QString qpath = QString::fromStdString(path);
    const QString suffix = QFileInfo(qpath).suffix().toLower();
    if (!QFileInfo::exists(qpath)) {
        out.diagnostics.error({path, 0, 0}, {}, "file not found");
        return out;
    }
    if (suffix == "sir") {
        out.engine = "Spike IR parser";
        QFile f(qpath);
        if (!f.open(QIODevice::ReadOnly)) {
            out.diagnostics.error({path, 0, 0}, {}, "cannot read file: " + f.errorString().toStdString());
            return out;
        }
        out.sourceText = f.readAll().toStdString();
        if (progress)
            progress(0.3, "parsing");
        ParseOutcome p = parseIrText(out.sourceText, path);
        out.module = p.module;
        out.diagnostics.append(p.diagnostics);
    } else if (suffix == "pt" || suffix == "pth") {
        out.engine = "TorchScript frontend plugin";
        if (progress)
            progress(0.02, "loading the TorchScript frontend (LibTorch)");
        QString error;
        auto* importer = plugins::PluginHost::instance().importerFor(qpath, &error);
        if (!importer) {
            out.diagnostics.error({path, 0, 0}, {}, "cannot import: " + error.toStdString());
            return out;
        }
        frontend::ImportOptions options;
        options.inputShape = inputShape;
        options.cancel = cancel;
        options.progress = progress;
        out.inputShape = inputShape;
        frontend::ImportResult r = importer->importFile(path, options);
        out.diagnostics.append(r.diagnostics);
        if (r.module)
            out.module = std::make_shared<const ir::Module>(std::move(*r.module));
        if (!r.reference.inputShape.empty())
            out.inputShape = r.reference.inputShape;
    } else if (suffix == "nir") {
        out.engine = "NIR importer (HDF5)";
        if (progress)
            progress(0.1, "reading the NIR graph");
        interop::NirReadResult file = interop::readNirFile(path);
        out.diagnostics.append(file.diagnostics);
        if (file.graph) {
            out.needsTimesteps = !nir.timesteps && !interop::nirHasTimesteps(*file.graph);
            out.needsDt = !nir.dt && !nirHasDt(*file.graph);
        }
        if (file.graph && !out.needsTimesteps && !out.needsDt) { // else the caller asks and opens again
            if (progress)
                progress(0.5, "converting NIR nodes to Spike IR");
            interop::NirImportOptions options;
            options.timesteps = nir.timesteps;
            options.dt = nir.dt;
            interop::NirImportResult r = interop::importFromNir(*file.graph, options, path);
            out.diagnostics.append(r.diagnostics);
            if (r.module) {
                out.nirSettings = nirSettingsNote(*file.graph, nir, *r.module);
                out.diagnostics.add({Severity::Note, {path, 0, 0}, {}, {}, "imported with " + out.nirSettings +
                                     "; dt turns the graph's time constants into per-step decays (dt/tau), "
                                     "docs/nir.md"});
                out.module = std::make_shared<const ir::Module>(std::move(*r.module));
            }
        }
    } else {
        out.diagnostics.error({path, 0, 0}, {},
                              "'." + suffix.toStdString() +
                                  "' files cannot be opened in the IDE yet (projects: use `stc project`); open a "
                                  ".pt, .sir or .nir file or a deployment package (its directory or manifest.json)");
    }
    out.seconds = double(timer.nsecsElapsed()) / 1e9;
    if (out.module)
        out.diagnostics.append(verifyIr(*out.module));
    return out;
}

ParseOutcome parseIrText(const std::string& text, const std::string& filename)
{
    ParseOutcome out;
    auto r = ir::parseModule(text, filename, &plugins::PluginHost::instance().customOps());
    out.diagnostics.append(r.diagnostics);
    if (r.module)
        out.module = std::make_shared<const ir::Module>(std::move(*r.module));
    return out;
}

std::string printIr(const ir::Module& m, bool elideConstants)
{
    ir::PrintOptions options;
    options.elideConstants = elideConstants;
    return ir::printModule(m, options);
}

Diagnostics verifyIr(const ir::Module& m)
{
    return ir::verify(m);
}

} // namespace stc::views
