#include "target/package_layout.h"

#include "target/partition.h"
#include "target/placement.h"

#include <algorithm>
#include <map>

namespace stc::target {

Mapping mappingOfPackage(const Package& p, const ChipDescriptor& chip)
{
    Mapping m;
    m.chipId = p.chipId;
    m.projectedChip = p.projectedChip;
    m.chipsUsed = p.chipsUsed;
    m.chipsRequested = std::max(1, p.chipsRequested);
    m.objective = p.objective;
    m.seed = p.seed;
    m.stepTimeNs = p.stepTimeNs;
    std::map<std::pair<int32_t, int32_t>, int64_t> entries; // (from, to) core -> route entries
    double sumBinding = 0;
    for (size_t k = 0; k < p.cores.size(); ++k) {
        const PackageCore& pc = p.cores[k];
        CoreAssignment a;
        a.coord = pc.coord;
        for (const Slice& s : pc.slices) {
            a.slices.push_back(int32_t(m.slices.size()));
            m.sliceCore.push_back(int32_t(k));
            m.slices.push_back(s);
            a.usage.neurons += s.neurons();
        }
        for (const PackageInput& in : pc.inputs) {
            a.usage.fanInAxons += int64_t(in.axonSource.size());
            a.usage.synapticBytes += int64_t(in.table.size());
        }
        a.usage.fanOutAxons = int64_t(pc.routes.size());
        a.usage.stateBytes = a.usage.neurons * chip.limits.neuronStateBytes;
        a.utilization = utilizationOf(a.usage, chip, 0.0);
        sumBinding += a.utilization.bindingValue();
        for (const RouteEntry& r : pc.routes)
            if (r.destCore != int32_t(k) && r.destCore >= 0 && size_t(r.destCore) < p.cores.size())
                ++entries[{int32_t(k), r.destCore}];
        m.cores.push_back(std::move(a));
    }
    m.meanBindingUtilization = m.cores.empty() ? 0.0 : sumBinding / double(m.cores.size());
    const BoardLayout board = makeBoardLayout(chip, m.chipsRequested);
    for (const auto& [key, n] : entries) {
        Route r;
        r.from = key.first;
        r.to = key.second;
        routeBetween(chip, board, m.cores[size_t(r.from)].coord, m.cores[size_t(r.to)].coord, r);
        m.routes.push_back(std::move(r));
    }
    return m;
}

} // namespace stc::target
