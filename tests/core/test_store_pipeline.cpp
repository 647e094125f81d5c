// store::irPipelineOf: the IR part of a recorded run pipeline (what the IDE's
// pass panel is given when a configuration is picked in the project explorer).
#include "store/pipeline_text.h"

#include <QtTest>

using namespace stc::store;

class TestStorePipeline : public QObject {
    Q_OBJECT

private slots:
    void irPart_data()
    {
        QTest::addColumn<QString>("recorded");
        QTest::addColumn<QString>("ir");
        QTest::newRow("sweep") << "fold-bn,prune{sparsity=0.5 mode=magnitude},fuse,quantize{bits=4},partition{chip=loihi3},place,route"
                               << "fold-bn,prune{sparsity=0.5 mode=magnitude},fuse,quantize{bits=4}";
        QTest::newRow("compile") << "fold-bn,canonicalize,dce,quantize{bits=8},schedule-time,partition{chip=loihi3 chips=1},place,route"
                                 << "fold-bn,canonicalize,dce,quantize{bits=8},schedule-time";
        QTest::newRow("no mapping") << "fold-bn,fuse,quantize{bits=8}" << "fold-bn,fuse,quantize{bits=8}";
        QTest::newRow("disabled entry kept") << "fold-bn,-fuse,quantize{bits=8},place,route" << "fold-bn,-fuse,quantize{bits=8}";
        QTest::newRow("empty") << "" << "";
    }
    void irPart()
    {
        QFETCH(QString, recorded);
        QFETCH(QString, ir);
        std::string error;
        const auto got = irPipelineOf(recorded.toStdString(), &error);
        QVERIFY2(got, error.c_str());
        QCOMPARE(QString::fromStdString(*got), ir);
    }
    void badTextIsRefused()
    {
        std::string error;
        QVERIFY(!irPipelineOf("fold-bn,no-such-pass", &error));
        QVERIFY2(error.find("no-such-pass") != std::string::npos, error.c_str());
    }
};

QTEST_GUILESS_MAIN(TestStorePipeline)
#include "test_store_pipeline.moc"
