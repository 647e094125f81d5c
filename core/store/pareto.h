// Metrics a user compares runs by, and the Pareto front over two of them.
// Pure functions on plain data: Project::paretoFront uses them on stored
// configurations, the IDE's trade-off chart and `stc sweep` on their own rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stc::store {

enum class Metric : uint8_t {
    Accuracy,       // top-1, 0..1 (latest accuracy run linked to the configuration)
    EnergyPj,       // estimated energy per inference (cost model of the mapping)
    LatencyNs,      // estimated latency per inference
    Cores,          // cores used
    Utilization,    // mean binding utilization of the used cores, 0..1
    CompileSeconds, // wall time of the compile
    SimEnergyPj,    // simulated energy per inference (latest simulation run)
    SimLatencyNs,   // simulated latency per inference
};

// Short names for the CLI and files: accuracy, energy, latency, cores,
// utilization, compile-time, sim-energy, sim-latency.
const char* toString(Metric m);
std::optional<Metric> parseMetric(std::string_view name);
const std::vector<Metric>& allMetrics();
// Accuracy and utilization are maximized, everything else minimized.
bool higherIsBetter(Metric m);

struct XY {
    double x = 0, y = 0;
};

// Indices of the non-dominated points, sorted by x (ascending, ties by y in
// the better direction first, then by index). A point is dominated when
// another is at least as good in both coordinates and better in one; equal
// points do not dominate each other, so duplicates are all kept. Points with
// a NaN coordinate are ignored.
std::vector<size_t> paretoFront(std::span<const XY> points, bool maximizeX, bool maximizeY);

} // namespace stc::store
