// Backend plugins loaded through the PluginHost: metadata (IID, API version,
// descriptors) is checked before load, shipped descriptors join the chip
// search path, the Akida rules name each unsupported layer of the bundled
// models, and both targets write their deployment description.
#include "bundled_models.h"
#include "ir/ir_io.h"
#include "plugin_host.h"
#include "plugin_interfaces.h"

#include "target/target_passes.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

using namespace stc;

namespace {

plugins::PluginHost& host()
{
    static plugins::PluginHost h({QStringLiteral(STC_PLUGIN_DIR)});
    return h;
}

const plugins::PluginInfo* info(const QString& name)
{
    for (const auto& p : host().plugins())
        if (p.name == name)
            return &p;
    return nullptr;
}

std::map<std::string, std::string> byLabel(const std::vector<target::LayerIssue>& issues)
{
    std::map<std::string, std::string> m;
    for (const auto& i : issues)
        m[i.label] = i.reason;
    return m;
}

// Compiles `m` for `chip` (partition/place/route with the plugin's check) and
// writes the deployment description into `dir`.
QJsonObject compileAndEmit(const ir::Module& m, const std::string& pipeline, const QString& chip, const QString& dir,
                           target::TargetSession& s, std::string* listing)
{
    auto session = std::make_shared<target::TargetSession>();
    QString err;
    target::Backend* b = host().backendFor(chip, &err);
    if (!b)
        qFatal("%s", qPrintable(err));
    session->layerCheck = [b](const ir::Module& mm, const target::ChipDescriptor& c) { return b->checkLayers(mm, c); };
    passes::PassRegistry reg = passes::makeBuiltinRegistry();
    target::registerTargetPasses(reg, session);
    Diagnostics d;
    auto p = passes::parsePipeline(pipeline + ",partition{chip=" + chip.toStdString() + "},place,route", reg, d);
    if (!p)
        qFatal("%s", d.format().c_str());
    passes::CompileContext ctx;
    const passes::RunResult r = passes::runPipeline(m, *p, reg, ctx);
    if (!r.ok() || !session->routed)
        qFatal("%s", r.allDiagnostics().format().c_str());
    std::string error;
    if (!b->emitPackage(session->network, session->mapping, *session->chip, pipeline, dir.toStdString(), listing, &error))
        qFatal("%s", error.c_str());
    s = *session;
    QFile f(dir + "/manifest.json");
    f.open(QIODevice::ReadOnly);
    return QJsonDocument::fromJson(f.readAll()).object();
}

} // namespace

class TestBackendPlugins : public QObject {
    Q_OBJECT
private slots:
    void metadataCheckedBeforeLoad()
    {
        for (const char* name : {"loihi", "spinnaker2", "akida"}) {
            const auto* p = info(name);
            QVERIFY2(p, name);
            QVERIFY2(p->usable, qPrintable(p->problem));
            QCOMPARE(p->iid, QString(plugins::kBackendIid));
            QCOMPARE(p->kind, QString("backend"));
            QVERIFY(!host().isLoaded(name)); // scanning loads nothing
        }
        QCOMPARE(info("spinnaker2")->chips, QStringList{"spinnaker2"});
        QCOMPARE(info("akida")->descriptors.size(), 1);
        QVERIFY(info("akida")->descriptors[0].endsWith("chips/akida1000.json"));
    }

    // A plugin whose metadata names a missing descriptor, or an old IID, is refused unloaded.
    void badMetadataRefused()
    {
        QTemporaryDir dir;
        QVERIFY(QFile::copy(info("akida")->file, dir.filePath("libstc_backend_akida.so")));
        plugins::PluginHost h({dir.path()});
        QCOMPARE(h.plugins().size(), size_t(1));
        QVERIFY(!h.plugins()[0].usable); // chips/akida1000.json not next to it
        QVERIFY2(h.plugins()[0].problem.contains("chips/akida1000.json"), qPrintable(h.plugins()[0].problem));
        QString err;
        QVERIFY(!h.backendFor("akida1000", &err));
        QVERIFY(err.contains("missing"));
    }

    void descriptorsRegistered()
    {
        host().registerChipDescriptors();
        QVERIFY(target::findChip("spinnaker2").chip);
        QVERIFY(target::findChip("akida1000").chip);
    }

    void akidaReportsEveryUnsupportedLayer()
    {
        host().registerChipDescriptors();
        const auto chip = *target::findChip("akida1000").chip;
        QString err;
        target::Backend* b = host().backendFor("akida1000", &err);
        QVERIFY2(b, qPrintable(err));
        QVERIFY(host().isLoaded("akida"));

        const ir::Module sf = testutil::loadBundledModel("spikformer_fmnist.sir");
        const auto issues = byLabel(b->checkLayers(sf, chip));
        int matmuls = 0, adds = 0, conv1d = 0, lifs = 0;
        for (const auto& [label, reason] : issues) {
            matmuls += label.ends_with("= matmul") && reason.find("matmul (attention)") != std::string::npos;
            adds += label.ends_with("= add") && reason.find("residual addition") != std::string::npos;
            conv1d += label.ends_with("= conv1d");
            lifs += label.ends_with("= lif") && reason.find("membrane leak") != std::string::npos;
        }
        QCOMPARE(matmuls, 4);
        QCOMPARE(adds, 5);
        QCOMPARE(conv1d, 12);
        QCOMPARE(lifs, 19);

        // conv SNN: leaky neurons; its pooling and layer shapes checked against Akida 1.0's limits.
        const ir::Module cs = testutil::loadBundledModel("convsnn_fmnist.sir");
        const auto csIssues = byLabel(b->checkLayers(cs, chip));
        int csLif = 0;
        for (const auto& [label, reason] : csIssues)
            csLif += label.ends_with("= lif");
        QCOMPARE(csLif, 2);
        for (const auto& [label, reason] : csIssues)
            QVERIFY2(reason.starts_with("unsupported on akida1000: "), reason.c_str());
    }

    void spinnaker2Deployment()
    {
        host().registerChipDescriptors();
        QTemporaryDir tmp;
        const QString dir = tmp.filePath("mlp.s2");
        target::TargetSession s;
        std::string listing;
        const ir::Module mlp = testutil::loadBundledModel("convsnn_fmnist.sir");
        const QJsonObject m = compileAndEmit(mlp, "fold-bn,canonicalize,dce,quantize{bits=8}", "spinnaker2", dir, s, &listing);
        QCOMPARE(m["format"].toString(), QString("stc.spinnaker2/1"));
        QCOMPARE(m["chip"].toString(), QString("spinnaker2"));
        QCOMPARE(m["core_unit"].toString(), QString("PE"));
        QCOMPARE(qint64(m["cores_used"].toInteger()), qint64(s.mapping.cores.size()));
        QCOMPARE(m["layers"].toArray().size(), qsizetype(s.network.populations.size()));
        for (const char* f : {"manifest.json", "cores.json", "chip.json", "listing.txt"})
            QVERIFY2(QFile::exists(dir + "/" + f), f);
        QFile cf(dir + "/cores.json");
        QVERIFY(cf.open(QIODevice::ReadOnly));
        const QJsonArray cores = QJsonDocument::fromJson(cf.readAll()).object()["cores"].toArray();
        QCOMPARE(cores.size(), qsizetype(s.mapping.cores.size()));
        int64_t neurons = 0;
        for (const auto& c : cores) {
            const QJsonObject o = c.toObject();
            QVERIFY(o["label"].toString().startsWith("QPE("));
            QVERIFY(o["sram_bytes"].toObject()["free_for_code_and_stack"].toInteger() >= 0);
            QVERIFY(!o["programs"].toArray().isEmpty());
            neurons += o["usage"].toObject()["neurons"].toInteger();
        }
        QCOMPARE(neurons, s.network.neuronCount());
        QVERIFY(listing.find("\ncores:\n") != std::string::npos);
        QVERIFY(listing.find("program") != std::string::npos);
        // Writing again replaces our own directory; a foreign directory is refused.
        compileAndEmit(mlp, "fold-bn,canonicalize,dce,quantize{bits=8}", "spinnaker2", dir, s, &listing);
        QDir().mkpath(tmp.filePath("foreign"));
        QFile(tmp.filePath("foreign/keep.txt")).open(QIODevice::WriteOnly);
        std::string error;
        QString err;
        QVERIFY(!host().backendFor("spinnaker2", &err)->emitPackage(s.network, s.mapping, *s.chip, "", 
                                                                     tmp.filePath("foreign").toStdString(), nullptr, &error));
        QVERIFY2(error.find("refusing to overwrite") != std::string::npos, error.c_str());
    }

    // tests/data/backends/if_convnet.sir (IF neurons, global average pooling,
    // random weights) fits Akida 1.0's rules at 4-bit weights; its NPs get
    // Akida layer types. At 8 bits the hidden layers are reported.
    void akidaDeploymentOfIfConvnet()
    {
        host().registerChipDescriptors();
        ir::LoadResult lr = ir::loadModule(std::string(STC_TEST_DATA_DIR) + "/backends/if_convnet.sir");
        QVERIFY2(lr.ok(), lr.diagnostics.format().c_str());
        const ir::Module net = std::move(*lr.module);
        QString err;
        auto* b = host().backendFor("akida1000", &err);
        QVERIFY(b);
        QVERIFY(b->checkLayers(net, *target::findChip("akida1000").chip).empty());
        QTemporaryDir tmp;
        target::TargetSession s;
        std::string listing;
        const QJsonObject m = compileAndEmit(net, "fold-bn,canonicalize,dce,quantize{bits=4}", "akida1000",
                                             tmp.filePath("net.akida"), s, &listing);
        QCOMPARE(m["format"].toString(), QString("stc.akida/1"));
        QCOMPARE(m["core_unit"].toString(), QString("NP"));
        QCOMPARE(m["weight_bits"].toInteger(), qint64(4));
        QStringList types;
        for (const auto& l : m["layers"].toArray())
            types << l.toObject()["akida_layer_type"].toString();
        for (const char* t : {"InputConv2D", "Conv2D", "FullyConnected"})
            QVERIFY2(types.contains(t), qPrintable(types.join(",")));
        QVERIFY(listing.find("node(") != std::string::npos);
        QVERIFY(s.mapping.cores.size() <= 80);
    }
};

QTEST_MAIN(TestBackendPlugins)
#include "test_backend_plugins.moc"
