// What the energy & latency charts draw: ledger-shaped lines (the same
// fields as core/sim's LedgerLine: scope, item, kind, events, the descriptor
// constant with its JSON path and source), so the cost model's estimate
// (document/stages_target.cpp) and, later, the simulator's measured ledger
// feed the same model. Plain data; nothing here calls core.
#pragma once

#include <QString>
#include <QStringList>

#include <vector>

namespace stc::views {

struct EnergyLine {
    QString scope;    // "layer", "core", "step", "total"
    QString item;     // layer name, core index, step index ("" for totals)
    QString kind;     // synaptic_op, neuron_update_active, ..., chip_link, static
    double count = 0; // events per inference
    double unitPj = 0;
    QString constant; // "energy_pj.synaptic_op"
    QString source;   // the descriptor's source text or projection
    bool projected = false;
    double energyPj = 0; // per inference
};

struct EnergyChartData {
    bool measured = false; // false: estimated by core/target's cost model
    QString origin;        // one line for the panel: where the numbers come from
    QString chipId;
    bool projectedChip = false;
    QString projectionNote;
    QStringList kinds;  // stacking order
    QStringList layers; // layer order (items of scope "layer")
    std::vector<EnergyLine> lines;
    // Per hardware step of an inference (T + depth).
    std::vector<double> stepLatencyNs;
    QString latencyConstant, latencySource; // what the step time is made of
    // Per used core: utilization of its binding resource (0..1).
    std::vector<double> coreUtilization;
    double dynamicPj = 0, staticPj = 0, latencyNs = 0;

    // Lines of one scope in insertion order.
    std::vector<const EnergyLine*> linesOf(const QString& scope) const;
    const EnergyLine* find(const QString& scope, const QString& item, const QString& kind) const;
    // Energy per step (sum over kinds), in step order.
    std::vector<double> stepEnergyPj() const;
};

} // namespace stc::views
