#include "store/pareto.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace stc::store {

namespace {

struct MetricName {
    Metric metric;
    const char* name;
    bool higherBetter;
};

constexpr MetricName kMetrics[] = {
    {Metric::Accuracy, "accuracy", true},        {Metric::EnergyPj, "energy", false},
    {Metric::LatencyNs, "latency", false},       {Metric::Cores, "cores", false},
    {Metric::Utilization, "utilization", true},  {Metric::CompileSeconds, "compile-time", false},
    {Metric::SimEnergyPj, "sim-energy", false},  {Metric::SimLatencyNs, "sim-latency", false},
};

} // namespace

const char* toString(Metric m)
{
    for (const auto& e : kMetrics)
        if (e.metric == m)
            return e.name;
    return "?";
}

std::optional<Metric> parseMetric(std::string_view name)
{
    for (const auto& e : kMetrics)
        if (name == e.name)
            return e.metric;
    return std::nullopt;
}

const std::vector<Metric>& allMetrics()
{
    static const std::vector<Metric> all = [] {
        std::vector<Metric> v;
        for (const auto& e : kMetrics)
            v.push_back(e.metric);
        return v;
    }();
    return all;
}

bool higherIsBetter(Metric m)
{
    for (const auto& e : kMetrics)
        if (e.metric == m)
            return e.higherBetter;
    return false;
}

std::vector<size_t> paretoFront(std::span<const XY> points, bool maximizeX, bool maximizeY)
{
    // Work in "smaller is better" coordinates.
    auto key = [&](size_t i) {
        return std::pair<double, double>(maximizeX ? -points[i].x : points[i].x,
                                         maximizeY ? -points[i].y : points[i].y);
    };
    std::vector<size_t> order;
    for (size_t i = 0; i < points.size(); ++i)
        if (!std::isnan(points[i].x) && !std::isnan(points[i].y))
            order.push_back(i);
    // Best x first; among equal x, best y first. A sweep then keeps a point
    // when its y beats every y seen at a strictly better x (and equals the best
    // y at its own x).
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) < key(b); });
    std::vector<size_t> front;
    std::optional<double> bestY; // best y over points with a strictly better x
    size_t groupStart = 0;
    while (groupStart < order.size()) {
        size_t groupEnd = groupStart;
        const double gx = key(order[groupStart]).first;
        while (groupEnd < order.size() && key(order[groupEnd]).first == gx)
            ++groupEnd;
        const double groupBestY = key(order[groupStart]).second;
        if (!bestY || groupBestY < *bestY)
            for (size_t k = groupStart; k < groupEnd && key(order[k]).second == groupBestY; ++k)
                front.push_back(order[k]);
        bestY = bestY ? std::min(*bestY, groupBestY) : groupBestY;
        groupStart = groupEnd;
    }
    std::stable_sort(front.begin(), front.end(), [&](size_t a, size_t b) {
        if (points[a].x != points[b].x)
            return points[a].x < points[b].x;
        return maximizeY ? points[a].y > points[b].y : points[a].y < points[b].y;
    });
    return front;
}

} // namespace stc::store
