#include "layout.h"

#include <algorithm>
#include <functional>

namespace stc::torchscript {

std::string toString(const Layout& l)
{
    std::string out = "[";
    for (size_t i = 0; i < l.size(); ++i) {
        if (i)
            out += ",";
        switch (l[i].role) {
        case Role::Time: out += "T"; break;
        case Role::Batch: out += "B"; break;
        case Role::TimeBatch: out += "TB"; break;
        case Role::Unit: out += "1"; break;
        case Role::Feature: out += "f" + std::to_string(l[i].feature); break;
        }
    }
    return out + "]";
}

bool hasTime(const Layout& l)
{
    return std::any_of(l.begin(), l.end(),
                       [](const Axis& a) { return a.role == Role::Time || a.role == Role::TimeBatch; });
}

int findRole(const Layout& l, Role r)
{
    for (size_t i = 0; i < l.size(); ++i)
        if (l[i].role == r)
            return int(i);
    return -1;
}

int featureCount(const Layout& l)
{
    return int(std::count_if(l.begin(), l.end(), [](const Axis& a) { return a.role == Role::Feature; }));
}

bool featuresInOrder(const Layout& l)
{
    int next = 0;
    for (const Axis& a : l)
        if (a.role == Role::Feature && a.feature != next++)
            return false;
    return true;
}

std::vector<int64_t> renumberFeatures(Layout& l)
{
    std::vector<int64_t> old;
    for (Axis& a : l)
        if (a.role == Role::Feature) {
            old.push_back(a.feature);
            a.feature = int(old.size() - 1);
        }
    return old;
}

Layout batchMajor(size_t rank)
{
    Layout l;
    if (rank == 0)
        return l;
    l.push_back({Role::Batch, -1});
    for (size_t i = 1; i < rank; ++i)
        l.push_back({Role::Feature, int(i - 1)});
    return l;
}

namespace {

struct Atom {
    Role role;   // Time, Batch, Unit or Feature (TimeBatch is split into two atoms)
    int64_t size;
};

int64_t product(const std::vector<int64_t>& v, size_t from, size_t to)
{
    int64_t p = 1;
    for (size_t i = from; i < to; ++i)
        p *= v[i];
    return p;
}

} // namespace

ReshapePlan planReshape(const Layout& in, const std::vector<int64_t>& inShape, const std::vector<int64_t>& outShape,
                        AxisSizes sizes)
{
    std::vector<Atom> atoms;
    for (size_t i = 0; i < in.size(); ++i) {
        switch (in[i].role) {
        case Role::Time: atoms.push_back({Role::Time, inShape[i]}); break;
        case Role::Batch: atoms.push_back({Role::Batch, inShape[i]}); break;
        case Role::TimeBatch:
            atoms.push_back({Role::Time, sizes.T});
            atoms.push_back({Role::Batch, inShape[i] / std::max<int64_t>(sizes.T, 1)});
            break;
        case Role::Unit: atoms.push_back({Role::Unit, 1}); break;
        case Role::Feature: atoms.push_back({Role::Feature, inShape[i]}); break;
        }
    }
    std::vector<int64_t> featSizes(atoms.size());
    for (size_t j = 0; j < atoms.size(); ++j)
        featSizes[j] = atoms[j].size;

    ReshapePlan plan;
    Layout out;
    bool sawFeature = false;
    // Depth-first search over (new axis i, atom j); the first success wins, so
    // options are tried in order of preference.
    std::function<bool(size_t, size_t)> dfs = [&](size_t i, size_t j) -> bool {
        if (i == outShape.size()) {
            for (size_t k = j; k < atoms.size(); ++k)
                if (atoms[k].size != 1)
                    return false;
            return true;
        }
        const int64_t want = outShape[i];
        if (j < atoms.size()) {
            const Atom& a = atoms[j];
            if (a.role == Role::Time || a.role == Role::Batch) {
                if (a.role == Role::Time && j + 1 < atoms.size() && atoms[j + 1].role == Role::Batch &&
                    want == a.size * atoms[j + 1].size && atoms[j + 1].size != 1) {
                    out.push_back({Role::TimeBatch, -1});
                    if (dfs(i + 1, j + 2))
                        return true;
                    out.pop_back();
                }
                if (want == a.size) {
                    out.push_back({a.role, -1});
                    if (dfs(i + 1, j + 1))
                        return true;
                    out.pop_back();
                }
                if (a.role == Role::Time && j + 1 < atoms.size() && atoms[j + 1].role == Role::Batch &&
                    want == a.size * atoms[j + 1].size) {
                    out.push_back({Role::TimeBatch, -1});
                    if (dfs(i + 1, j + 2))
                        return true;
                    out.pop_back();
                }
                if (a.size == 1 && dfs(i, j + 1))
                    return true;
            } else if (a.role == Role::Unit) {
                if (want == 1) {
                    out.push_back({Role::Unit, -1});
                    if (dfs(i + 1, j + 1))
                        return true;
                    out.pop_back();
                }
                if (dfs(i, j + 1))
                    return true;
            } else {
                // A feature group: atoms j..k (all features) <-> new axes i..l.
                size_t kEnd = j;
                while (kEnd < atoms.size() && atoms[kEnd].role == Role::Feature)
                    ++kEnd;
                for (size_t k = j + 1; k <= kEnd; ++k) {
                    const int64_t p = product(featSizes, j, k);
                    for (size_t l = i + 1; l <= outShape.size(); ++l) {
                        const int64_t q = product(outShape, i, l);
                        if (q > p && p != 0)
                            break;
                        if (q != p)
                            continue;
                        const size_t mark = out.size();
                        for (size_t m = i; m < l; ++m)
                            out.push_back({Role::Feature, 0});
                        const bool saw = sawFeature;
                        sawFeature = true;
                        if (dfs(l, k))
                            return true;
                        sawFeature = saw;
                        out.resize(mark);
                    }
                }
            }
        }
        if (want == 1) { // a new size-1 axis: a feature once features started, else a unit
            out.push_back({sawFeature ? Role::Feature : Role::Unit, 0});
            if (dfs(i + 1, j))
                return true;
            out.pop_back();
        }
        return false;
    };
    if (!dfs(0, 0)) {
        plan.error = "reshape mixes the batch or time axis with feature axes";
        return plan;
    }
    for (size_t i = 0; i < out.size(); ++i)
        if (out[i].role == Role::Feature)
            plan.featureShape.push_back(outShape[i]);
    renumberFeatures(out);
    plan.out = std::move(out);
    return plan;
}

BroadcastPlan planBroadcast(const std::vector<const Layout*>& layouts, const std::vector<std::vector<int64_t>>& shapes)
{
    BroadcastPlan plan;
    size_t rank = 0;
    for (const auto& s : shapes)
        rank = std::max(rank, s.size());
    plan.out.assign(rank, Axis{Role::Unit, -1});
    plan.outShape.assign(rank, 1);
    std::vector<bool> decided(rank, false);
    for (size_t k = 0; k < shapes.size(); ++k) {
        const size_t off = rank - shapes[k].size();
        for (size_t i = 0; i < shapes[k].size(); ++i) {
            const size_t o = off + i;
            const int64_t sz = shapes[k][i];
            if (sz != 1) {
                if (plan.outShape[o] != 1 && plan.outShape[o] != sz) {
                    plan.error = "shapes do not broadcast";
                    return plan;
                }
                plan.outShape[o] = sz;
            }
            if (!layouts[k])
                continue;
            const Axis& a = (*layouts[k])[i];
            if (a.role == Role::Unit)
                continue;
            if (!decided[o]) {
                plan.out[o] = a;
                decided[o] = true;
            } else if (plan.out[o].role != a.role) {
                plan.error = "operands disagree on the role of axis " + std::to_string(o) + " (" +
                             toString(*layouts[k]) + " vs an operand with " +
                             (plan.out[o].role == Role::Feature ? "a feature" : "a time/batch") + " axis there)";
                return plan;
            }
        }
    }
    // Axes only static operands have (size > 1) become features.
    for (size_t o = 0; o < rank; ++o)
        if (!decided[o] && plan.outShape[o] != 1)
            plan.out[o] = {Role::Feature, 0};
    renumberFeatures(plan.out);
    for (size_t k = 0; k < shapes.size(); ++k) {
        const size_t off = rank - shapes[k].size();
        std::vector<int64_t> aligned;
        for (size_t o = 0; o < rank; ++o) {
            if (plan.out[o].role != Role::Feature)
                continue;
            aligned.push_back(o >= off ? shapes[k][o - off] : 1);
        }
        plan.operandShapes.push_back(std::move(aligned));
    }
    return plan;
}

} // namespace stc::torchscript
