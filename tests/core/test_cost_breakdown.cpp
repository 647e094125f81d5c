// estimateBreakdown: the per-layer / per-core / per-step split of the cost
// model adds up to estimateCost's totals (data-driven over golden models and
// chips), per-step work follows the pipelined schedule.
#include "target/cost_model.h"
#include "target/mapper.h"
#include "target/network_extract.h"

#include "ir/ir_io.h"

#include <QtTest>

using namespace stc;
using namespace stc::target;

class CostBreakdownTest : public QObject {
    Q_OBJECT
private slots:
    void sumsMatchEstimate_data();
    void sumsMatchEstimate();
    void kindNames();
};

void CostBreakdownTest::sumsMatchEstimate_data()
{
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("chip");
    QTest::addColumn<int>("chips");
    QTest::newRow("conv_snn loihi2") << "conv_snn.sir" << "loihi2" << 1;
    QTest::newRow("spikformer_cifar loihi3") << "spikformer_cifar.sir" << "loihi3" << 1;
    QTest::newRow("spikformer_cifar loihi2 x2") << "spikformer_cifar.sir" << "loihi2" << 2;
    QTest::newRow("conv_snn loihi1 x3") << "conv_snn.sir" << "loihi1" << 3;
}

void CostBreakdownTest::sumsMatchEstimate()
{
    QFETCH(QString, model);
    QFETCH(QString, chip);
    QFETCH(int, chips);
    auto loaded = ir::loadModule(std::string(STC_TEST_DATA_DIR) + "/ir/" + model.toStdString());
    QVERIFY2(loaded.ok(), loaded.diagnostics.format().c_str());
    auto desc = findChip(chip.toStdString());
    QVERIFY(desc.chip);
    auto ex = extractNetwork(*loaded.module, &*desc.chip);
    QVERIFY2(ex.ok(), ex.diagnostics.format().c_str());
    MapOptions opt;
    opt.chips = chips;
    const Mapping m = mapNetwork(ex.network, *desc.chip, opt);
    QVERIFY(m.fits);
    const Estimate e = estimateCost(ex.network, m, *desc.chip);
    const CostBreakdown b = estimateBreakdown(ex.network, m, *desc.chip);
    const EventCosts& E = desc.chip->energyPj;

    QCOMPARE(b.perPopulation.size(), ex.network.populations.size());
    QCOMPARE(b.perCore.size(), m.cores.size());
    QCOMPARE(qsizetype(b.perStep.size()), qsizetype(ex.network.timesteps + ex.network.depth));
    auto near = [](double a, double b) { return std::abs(a - b) <= 1e-6 * std::max({1.0, std::abs(a), std::abs(b)}); };
    const auto& c = b.total.count;
    const double syn = c[size_t(EventKind::SynapticOp)] * E.synapticOp;
    const double neu = c[size_t(EventKind::NeuronUpdateActive)] * E.neuronUpdateActive +
                       c[size_t(EventKind::NeuronUpdateIdle)] * E.neuronUpdateIdle;
    QVERIFY2(near(syn, e.synapticPj), qPrintable(QString("%1 vs %2").arg(syn).arg(e.synapticPj)));
    QVERIFY2(near(neu, e.neuronPj), qPrintable(QString("%1 vs %2").arg(neu).arg(e.neuronPj)));
    QVERIFY(near(b.total.energyPj(E), e.synapticPj + e.neuronPj + e.networkPj));
    EventTally cores, steps;
    for (const auto& t : b.perCore)
        cores += t;
    for (const auto& t : b.perStep)
        steps += t;
    QVERIFY(near(cores.energyPj(E), b.total.energyPj(E)));
    QVERIFY(near(steps.energyPj(E), b.total.energyPj(E)));
    // Pipeline fill: the first step only has the populations of phase 0.
    if (ex.network.depth > 0)
        QVERIFY(b.perStep.front().energyPj(E) < b.perStep[size_t(ex.network.depth)].energyPj(E));
}

void CostBreakdownTest::kindNames()
{
    QCOMPARE(QString(toString(EventKind::SynapticOp)), QString("synaptic_op"));
    QCOMPARE(QString(toString(EventKind::ChipLink)), QString("chip_link"));
    EventCosts c;
    c.hopNs = 4;
    QCOMPARE(unitCost(c, EventKind::HopNs), 4.0);
}

QTEST_GUILESS_MAIN(CostBreakdownTest)
#include "test_cost_breakdown.moc"
