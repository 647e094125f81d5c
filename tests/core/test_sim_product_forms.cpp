// Core-major execution simulates attention product slices from their
// operands (sim/product_forms.h) instead of scattering every operand into the
// slice's accumulators and scanning it. That must give step-major's outputs,
// spike trains, counters and ledger bit for bit: with the compiler's weights
// (all 1), with mixed weights (zero, negative, per neuron), and on a slice
// one of whose neurons two records of one side reach (no operand form: the
// accumulator path). A program edited after its plan was built gets forms
// built from the edited rows.
#include "sim/pull_plan.h"
#include "sim_compare.h"

#include <QtTest>

#include <set>

using namespace stc;

namespace {

int64_t productSlices(const sim::SimProgram& p)
{
    int64_t n = 0;
    for (const sim::CoreProgram& cp : p.cores)
        for (const sim::SliceInfo& si : cp.slices)
            n += p.populations[size_t(si.pop)].kind == sim::NeuronKind::Product;
    return n;
}

size_t forms(const sim::SimProgram& p)
{
    return p.sliceGraph.get(p)->products.forms.size();
}

bool isProductBlock(const sim::SimProgram& p, const sim::CoreProgram& cp, const sim::SynapseBlock& b)
{
    return p.populations[size_t(cp.slices[size_t(b.slice)].pop)].kind == sim::NeuronKind::Product;
}

} // namespace

class TestSimProductForms : public QObject {
    Q_OBJECT
private slots:
    void everyProductSliceHasAForm_data() { simtest::addStrategyRows(); }
    void everyProductSliceHasAForm()
    {
        const simtest::RowPackage row = simtest::compileRow();
        const sim::SimProgram& p = row.compiled.program;
        // The compiler gives each product neuron one synapse per operand.
        QCOMPARE(int64_t(forms(p)), productSlices(p));
        if (productSlices(p) == 0)
            QSKIP("no attention in this model");
        // Slices of one layout share their slot tables.
        const auto plan = p.sliceGraph.get(p);
        std::set<const void*> tables;
        for (const auto& f : plan->products.forms)
            tables.insert(f.slotOf[0].get()), tables.insert(f.slotOf[1].get());
        QVERIFY(tables.size() < 2 * plan->products.forms.size());
        simtest::compareCoreMajorRuns(p, 5, 11);
    }

    void mixedWeightsStayExact()
    {
        simtest::Compiled c = simtest::bundledSpikformer();
        sim::SimProgram& p = c.program;
        QVERIFY(forms(p) > 0);
        // Weights 1, 0, -2, 3 in turn over every synapse into a product
        // slice: zero operands, negative products, per-neuron weights.
        const int32_t weights[] = {1, 0, -2, 3};
        int64_t k = 0;
        for (sim::CoreProgram& cp : p.cores)
            for (sim::SynapseBlock& b : cp.inputs) {
                if (!isProductBlock(p, cp, b) || b.conv)
                    continue;
                for (uint32_t a = 0; a < b.rowStart.size(); ++a)
                    sim::SynapseBlock::forEachRun(b, a, [&](uint32_t, int32_t* w, uint32_t n) {
                        for (uint32_t j = 0; j < n; ++j)
                            w[j] = weights[k++ % 4];
                    });
            }
        QVERIFY(k > 0);
        const auto plan = p.sliceGraph.get(p);
        QCOMPARE(int64_t(plan->products.forms.size()), productSlices(p));
        bool perNeuron = false;
        for (const auto& f : plan->products.forms)
            perNeuron |= !f.weightOf[0].empty() || !f.weightOf[1].empty();
        QVERIFY(perNeuron);
        simtest::compareCoreMajorRuns(p, 4, 11);
    }

    void twoRecordsIntoOneSideFallBack()
    {
        simtest::Compiled c = simtest::bundledSpikformer();
        sim::SimProgram& p = c.program;
        const size_t before = forms(p);
        QVERIFY(before > 0);
        // The first target of axon 0's record of a product block becomes
        // axon 1's first target: that neuron gets two synapses of one side.
        bool edited = false;
        for (sim::CoreProgram& cp : p.cores) {
            for (sim::SynapseBlock& b : cp.inputs) {
                if (!isProductBlock(p, cp, b) || b.conv || b.rowStart.size() < 2 ||
                    b.rowStart[0] == b.rowStart[1])
                    continue;
                std::vector<int32_t>& rows = b.rows.edit();
                rows[b.rowStart[0] + sim::SynapseBlock::kRowHeader] =
                    rows[b.rowStart[1] + sim::SynapseBlock::kRowHeader];
                edited = true;
                break;
            }
            if (edited)
                break;
        }
        QVERIFY(edited);
        QCOMPARE(forms(p), before - 1);
        simtest::compareCoreMajorRuns(p, 4, 11);
    }
};

QTEST_GUILESS_MAIN(TestSimProductForms)
#include "test_sim_product_forms.moc"
