// The TorchScript frontend as the CLI and IDE see it: a Qt plugin found and
// checked through its JSON metadata, loaded lazily on the first import.
#include "plugin_host.h"

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
};

QTEST_GUILESS_MAIN(TestTorchScriptPlugin)
#include "test_torchscript_plugin.moc"
