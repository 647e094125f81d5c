#include "store/convert.h"

#include <algorithm>
#include <cmath>

namespace stc::store {

std::vector<PassRow> toPassRows(const std::vector<passes::PassRecord>& records, int firstPosition)
{
    std::vector<PassRow> rows;
    rows.reserve(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
        const passes::PassRecord& rec = records[i];
        PassRow row;
        row.position = firstPosition + int(i);
        row.pass = rec.pass;
        row.entry = rec.entryText;
        row.status = passes::toString(rec.status);
        row.seconds = rec.seconds;
        row.changed = rec.changed;
        row.diagnostics = rec.diagnostics.format();
        for (const auto& s : rec.stats.items())
            row.stats.push_back({s.name, std::holds_alternative<int64_t>(s.value) ? StatValue(std::get<int64_t>(s.value))
                                                                                 : StatValue(std::get<double>(s.value))});
        rows.push_back(std::move(row));
    }
    return rows;
}

CompileStatus toCompileStatus(passes::RunStatus s)
{
    switch (s) {
    case passes::RunStatus::Ok: return CompileStatus::Ok;
    case passes::RunStatus::Failed: return CompileStatus::Failed;
    case passes::RunStatus::Cancelled: return CompileStatus::Cancelled;
    }
    return CompileStatus::Failed;
}

void setMapping(CompileResult& r, const target::Mapping& m, const target::Estimate& e)
{
    r.mapped = true;
    r.notMappedReason.clear();
    r.coresUsed = int64_t(m.cores.size());
    r.chipsUsed = m.chipsUsed;
    r.utilization = m.meanBindingUtilization;
    r.utilizationWithTime = m.meanUtilizationWithTime;
    r.stepTimeNs = e.stepTimeNs;
    r.latencyNs = e.latencyNs;
    r.energyPj = e.totalPj();
    r.synapticPj = e.synapticPj;
    r.neuronPj = e.neuronPj;
    r.networkPj = e.networkPj;
    r.staticPj = e.staticPj;
    r.baselinePj = e.literatureBaselinePj;
    r.ratesMeasured = e.ratesMeasured;
    r.projectedChip = e.projectedChip || m.projectedChip;
}

SimulationLedger toSimulationLedger(const sim::Ledger& l, double seconds)
{
    SimulationLedger out;
    out.samples = l.samples;
    out.steps = int64_t(l.latency.stepNs.size());
    out.stepTimeNs = out.steps ? l.latency.latencyModeNs / double(out.steps) : 0;
    out.latencyNs = l.latency.latencyModeNs;
    out.energyPj = l.totalPj();
    out.seconds = seconds;
    const double n = double(std::max<int64_t>(1, l.samples));
    for (const sim::LedgerLine& line : l.lines) {
        const bool layer = line.scope == "layer";
        const bool staticTotal = line.scope == "total" && line.kind == "static";
        if (!layer && !staticTotal)
            continue;
        out.entries.push_back({layer ? line.item : std::string{}, line.kind, int64_t(std::llround(line.count * n)),
                               line.energyPj * n});
    }
    return out;
}

} // namespace stc::store
