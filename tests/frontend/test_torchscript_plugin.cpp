// The TorchScript frontend as the CLI and IDE see it: a Qt plugin found and
// checked through its JSON metadata, loaded lazily on the first import.
#include "ir/printer.h"
#include "plugin_host.h"

#include <QDir>
#include <QFile>
#include <QTest>

using namespace stc;

class TestTorchScriptPlugin : public QObject {
    Q_OBJECT

private slots:
    void metadataWithoutLoading()
    {
        plugins::PluginHost host({QStringLiteral(STC_PLUGIN_DIR)});
        const plugins::PluginInfo* found = nullptr;
        for (const auto& info : host.plugins())
            if (info.name == "torchscript")
                found = &info;
        QVERIFY2(found, "the torchscript plugin is not in " STC_PLUGIN_DIR);
        QVERIFY2(found->usable, qPrintable(found->problem));
        QCOMPARE(found->kind, QStringLiteral("frontend"));
        QCOMPARE(found->compatVersion, 1);
        QVERIFY(found->fileExtensions.contains(".pt"));
        QVERIFY(found->fileExtensions.contains(".pth"));
        QVERIFY(found->fileExtensions.contains(".ts"));
        QVERIFY(!host.isLoaded("torchscript")); // reading metadata does not load LibTorch
    }

    void loadsOnFirstImport()
    {
        plugins::PluginHost host({QStringLiteral(STC_PLUGIN_DIR)});
        QString error;
        frontend::Importer* importer = host.importerFor("model.pt", &error);
        QVERIFY2(importer, qPrintable(error));
        QVERIFY(host.isLoaded("torchscript"));
        QCOMPARE(QString::fromStdString(importer->name()), QStringLiteral("torchscript"));
        QCOMPARE(host.importerFor("other.pth", &error), importer); // loaded once

        const std::string model = std::string(STC_TEST_FIXTURE_DIR) + "/torchscript/lif_t1_b3.traced.pt";
        frontend::ImportOptions options;
        options.inputShape = {3, 1, 28, 28};
        const frontend::ImportResult r = importer->importFile(model, options);
        QVERIFY2(r.module.has_value(), r.diagnostics.format().c_str());
        QCOMPARE(r.module->timesteps, int64_t(1));
    }

    void unknownExtensionIsRefused()
    {
        plugins::PluginHost host({QStringLiteral(STC_PLUGIN_DIR)});
        QString error;
        QVERIFY(!host.importerFor("model.onnx", &error));
        QVERIFY(error.contains(".onnx"));
    }

    // resources/models/NAME.sir is what core tests and benchmarks use (they
    // cannot import .pt); it must be exactly today's import of NAME.traced.pt.
    // Regenerate: stc import resources/models/NAME.traced.pt -o resources/models/NAME.sir
    void bundledIrIsCurrent()
    {
        const QDir models(QStringLiteral(STC_RESOURCE_DIR "/models"));
        const QStringList traced = models.entryList({"*.traced.pt"}, QDir::Files, QDir::Name);
        QVERIFY2(!traced.isEmpty(), "no bundled models in resources/models");
        plugins::PluginHost host({QStringLiteral(STC_PLUGIN_DIR)});
        QString error;
        frontend::Importer* importer = host.importerFor("model.pt", &error);
        QVERIFY2(importer, qPrintable(error));
        for (const QString& file : traced) {
            const QString name = file.left(file.size() - int(strlen(".traced.pt")));
            QFile sir(models.filePath(name + ".sir"));
            QVERIFY2(sir.open(QIODevice::ReadOnly), qPrintable(sir.fileName() + " is missing"));
            const QString committed = QString::fromUtf8(sir.readAll());
            frontend::ImportOptions options;
            const frontend::ImportResult r = importer->importFile(models.filePath(file).toStdString(), options);
            QVERIFY2(r.module.has_value(), r.diagnostics.format().c_str());
            const QString fresh = QString::fromStdString(ir::printModule(*r.module));
            // The header names the path the import was run with; compare the rest.
            auto body = [](const QString& text) { return text.mid(text.indexOf('\n')); };
            QVERIFY2(body(fresh) == body(committed), qPrintable(name + ".sir is stale: re-import " + file));
        }
    }
};

QTEST_GUILESS_MAIN(TestTorchScriptPlugin)
#include "test_torchscript_plugin.moc"
