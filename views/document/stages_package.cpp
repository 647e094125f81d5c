// Opening a deployment package directory in the IDE: core/target's
// readPackage, the placement it records (target::mappingOfPackage) turned into
// floorplan data, the package decoded for core/sim, and the source model when
// the package records one (provenance.json). Part of stages.h; runs inside a
// JobRunner job.
#include "document/stages.h"
#include "document/stages_internal.h"

#include "target/package_layout.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

namespace stc::views {

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

// readPackage's message located: a core blob file it names (cores.bin, or
// cores/NNNN.bin of packages before stc.package/3), else manifest.json
// (with nlohmann's "at line L, column C" when the JSON does not parse).
void addPackageError(Diagnostics& d, const QString& dir, const std::string& error)
{
    const QString msg = qs(error);
    SourceLoc loc{QDir(dir).filePath("manifest.json").toStdString(), 0, 0};
    const QRegularExpressionMatch blob = QRegularExpression(R"(cores(/\d+)?\.bin)").match(msg);
    if (blob.hasMatch()) {
        loc.file = QDir(dir).filePath(blob.captured(0)).toStdString();
    } else {
        const QRegularExpressionMatch at = QRegularExpression(R"(at line (\d+), column (\d+))").match(msg);
        if (at.hasMatch()) {
            loc.line = at.captured(1).toInt();
            loc.col = at.captured(2).toInt();
        }
    }
    d.error(loc, {}, "cannot open the deployment package: " + error);
}

// The source model provenance.json records, loaded if it is still there and
// its SHA-256 matches.
void loadRecordedSource(const QString& dir, PackageOutcome& out, const std::atomic<bool>* cancel)
{
    QFile f(QDir(dir).filePath("provenance.json"));
    if (!f.open(QIODevice::ReadOnly)) {
        out.sourceNote = "the package does not record its source model (no provenance.json), so the graph and "
                         "the IR editor stay empty";
        return;
    }
    const QJsonObject model = QJsonDocument::fromJson(f.readAll()).object().value("model").toObject();
    const QString path = model.value("path").toString();
    const QString sha = model.value("sha256").toString().toLower();
    if (path.isEmpty()) {
        out.sourceNote = "provenance.json names no model file; the graph and the IR editor stay empty";
        return;
    }
    QFile src(path);
    if (!src.open(QIODevice::ReadOnly)) {
        out.sourceNote = "the recorded source model " + path + " is not there any more; the graph stays empty";
        return;
    }
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(&src);
    if (!sha.isEmpty() && QString::fromLatin1(hash.result().toHex()) != sha) {
        out.sourceNote = "the recorded source model " + path + " changed since the package was built (SHA-256 "
                         "differs); not loaded";
        return;
    }
    std::vector<int64_t> shape;
    for (const auto& v : model.value("input_shape").toArray())
        shape.push_back(v.toInteger());
    out.source = loadModelFile(path.toStdString(), shape, cancel, {});
    out.sourcePath = path;
    out.sourceNote = out.source.module ? "source model " + QFileInfo(path).fileName() + " (recorded in provenance.json, "
                                                                                        "SHA-256 checked)"
                                       : "the recorded source model " + path + " did not load (see Diagnostics)";
}

} // namespace

std::string packageDirectoryOf(const std::string& path)
{
    const QFileInfo info(QString::fromStdString(path));
    if (info.isDir() && QFileInfo::exists(QDir(info.filePath()).filePath("manifest.json")))
        return info.absoluteFilePath().toStdString();
    if (info.fileName() == "manifest.json" && info.isFile())
        return info.absolutePath().toStdString();
    if (info.suffix().toLower() == "stcpkg")
        return info.absoluteFilePath().toStdString();
    return {};
}

PackageOutcome loadPackageDirectory(const std::string& path, const std::atomic<bool>* cancel,
                                    std::function<void(double, const std::string&)> progress)
{
    PackageOutcome out;
    QElapsedTimer timer;
    timer.start();
    auto step = [&](double f, const std::string& what) {
        if (progress)
            progress(f, what);
        return !(cancel && cancel->load());
    };
    out.directory = packageDirectoryOf(path);
    if (out.directory.empty())
        out.directory = path;
    const QString dir = qs(out.directory);
    try {
        if (!step(0.05, "reading manifest.json and the core blobs"))
            return out;
        std::string error;
        std::optional<target::Package> pkg = target::readPackage(out.directory, &error, 1);
        if (!pkg) {
            addPackageError(out.diagnostics, dir, error);
            return out;
        }
        target::DescriptorLoad chip =
            target::parseChipDescriptor(pkg->chipDescriptorJson, QDir(dir).filePath("manifest.json").toStdString());
        if (!chip.chip) {
            addPackageError(out.diagnostics, dir, "its chip.descriptor (the embedded chip JSON) does not load");
            out.diagnostics.append(chip.diagnostics);
            return out;
        }
        if (!step(0.4, "decoding the package for the chip simulator"))
            return out;
        const target::Mapping m = target::mappingOfPackage(*pkg, *chip.chip);
        auto package = chipPackageOf(*pkg, m, &error);
        if (!package) {
            addPackageError(out.diagnostics, dir, error);
            return out;
        }
        if (!step(0.7, "the recorded source model"))
            return out;
        loadRecordedSource(dir, out, cancel);
        out.diagnostics.append(out.source.diagnostics);
        std::vector<FloorLayer> layers;
        for (const auto& p : pkg->populations) {
            FloorLayer l;
            l.name = qs(p.name);
            l.origin = qs(p.origin);
            l.kind = qs(p.kind);
            l.neurons = 1;
            for (int64_t d : p.shape)
                l.neurons *= d;
            layers.push_back(std::move(l));
        }
        auto f = floorplanOfMapping(m, *chip.chip, std::move(layers), out.source.module.get());
        f->packageDir = dir;
        f->perCoreEstimate = false;
        f->latencyNs = pkg->latencyNs;
        f->dynamicPj = pkg->energyPj; // the package's total estimate (not split into dynamic and static)
        f->summary = QString("Package %1\nmodel %2, %3 cores on %4 × %5, T=%6, pipeline depth %7\npipeline: %8\n"
                             "estimate as written: energy %9 pJ, latency %10 ns per inference")
                         .arg(dir, qs(pkg->model))
                         .arg(pkg->cores.size())
                         .arg(pkg->chipsUsed)
                         .arg(qs(pkg->chipId))
                         .arg(pkg->timesteps)
                         .arg(pkg->depth)
                         .arg(qs(pkg->pipeline))
                         .arg(pkg->energyPj, 0, 'g', 6)
                         .arg(pkg->latencyNs, 0, 'g', 6);
        out.floorplan = f;
        out.package = package;
        out.model = qs(pkg->model);
        out.pipeline = qs(pkg->pipeline);
        out.description = QString("package of %1: %2 cores on %3 × %4")
                              .arg(out.model)
                              .arg(pkg->cores.size())
                              .arg(pkg->chipsUsed)
                              .arg(qs(pkg->chipId));
    } catch (const std::exception& e) {
        addPackageError(out.diagnostics, dir, e.what());
        out.package.reset();
        out.floorplan.reset();
    }
    out.seconds = double(timer.nsecsElapsed()) / 1e9;
    step(1.0, "package opened");
    return out;
}

} // namespace stc::views
