// Successive halving towards the lowest-energy configuration whose top-1
// meets an accuracy budget. Energy comes from the mapping and cost model and
// is cheap; accuracy needs fixed-point evaluations, which are what halving
// saves. Every candidate is compiled and mapped first; then round r
// evaluates the survivors on n_r images (n_0 small, times eta each round, up
// to the sweep's limit, continuing where the last round stopped) and drops:
//  - candidates whose 95 % Wilson upper bound on top-1 is below the budget
//    (certainly too inaccurate),
//  - candidates costlier than the cheapest one already certainly within the
//    budget (its lower bound above it; exact at the full image count),
//  - beyond the cheapest 1/eta of the rest (plus the most accurate one, so a
//    round cannot drop every feasible candidate on noise alone).
// The survivors of the last round are evaluated on all images; the answer is
// the cheapest of them within the budget. The result states the images spent
// against what the full grid would cost.
#include "store/sweep_runner.h"

#include "passes/options.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace stc::store::detail {

namespace {

struct Interval {
    double lo, hi;
};

Interval wilson95(int64_t correct, int64_t n)
{
    if (n <= 0)
        return {0, 1};
    const double z = 1.959963984540054, p = double(correct) / double(n), z2n = z * z / double(n);
    const double centre = (p + z2n / 2) / (1 + z2n);
    const double half = z * std::sqrt(p * (1 - p) / double(n) + z2n / (4 * double(n))) / (1 + z2n);
    return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

std::string pct(double v)
{
    char b[32];
    std::snprintf(b, sizeof b, "%.2f %%", 100 * v);
    return b;
}

} // namespace

void SweepRunner::runHalving()
{
    const int eta = std::max(2, spec_.halvingEta);
    const double budget = spec_.accuracyBudget;
    struct Candidate {
        size_t config;
        SweepPoint point;
        std::shared_ptr<const ir::Module> compiled;
        bool alive = true;
    };
    std::vector<Candidate> all;
    double anchor = std::numeric_limits<double>::infinity(); // cheapest energy known to meet the budget
    for (size_t i = 0; i < configs_.size(); ++i) {
        if (cancelled()) {
            result_.cancelled = true;
            return;
        }
        Candidate c{i, {}, nullptr, false};
        static_cast<SweepConfig&>(c.point) = configs_[i].config;
        if (resumeFrom(configs_[i], c.point)) {
            if (c.point.compile.mapped && c.point.accuracy->accuracy() >= budget)
                anchor = std::min(anchor, c.point.compile.energyPj);
        } else {
            c.point = compile(configs_[i], &c.compiled);
            if (c.compiled && c.point.compile.mapped)
                c.alive = true;
            else if (c.compiled)
                c.point.eliminated = "not mapped (" + c.point.compile.notMappedReason + "): no energy to rank by";
        }
        all.push_back(std::move(c));
    }
    auto eliminate = [](Candidate& c, std::string why) {
        c.alive = false;
        c.point.eliminated = std::move(why);
        c.compiled.reset();
    };
    auto aliveOnes = [&] {
        std::vector<Candidate*> v;
        for (Candidate& c : all)
            if (c.alive)
                v.push_back(&c);
        return v;
    };

    int64_t images = spec_.halvingFirstImages;
    if (images <= 0) {
        images = n_;
        for (size_t k = aliveOnes().size(); k > 1; k = (k + size_t(eta) - 1) / size_t(eta))
            images = (images + eta - 1) / eta;
        images = std::max<int64_t>(images, std::min<int64_t>(n_, 32));
    }
    images = std::min(images, n_);
    for (int round = 0;; ++round) {
        std::vector<Candidate*> alive = aliveOnes();
        if (alive.empty())
            break;
        if (alive.size() == 1)
            images = n_; // nothing left to compare: settle it
        for (Candidate* c : alive) {
            if (!evaluate(c->point, *c->compiled, images)) {
                if (result_.cancelled)
                    return;
                eliminate(*c, "evaluation failed: " + c->point.error);
            }
        }
        const bool full = images == n_;
        const std::string at = "round " + std::to_string(round) + " (" + std::to_string(images) + " images)";
        int tooInaccurate = 0, dominated = 0, cut = 0;
        for (Candidate* c : aliveOnes()) {
            const AccuracyResult& a = *c->point.accuracy;
            const Interval ci = wilson95(a.correct, a.samples);
            if ((full ? a.accuracy() : ci.hi) < budget) {
                eliminate(*c, at + ": top-1 " + pct(a.accuracy()) +
                                  (full ? "" : ", 95 % upper bound " + pct(ci.hi)) + " is below the budget " + pct(budget));
                ++tooInaccurate;
            } else if ((full ? a.accuracy() : ci.lo) >= budget) {
                anchor = std::min(anchor, c->point.compile.energyPj);
            }
        }
        for (Candidate* c : aliveOnes())
            if (c->point.compile.energyPj > anchor) {
                eliminate(*c, at + ": a configuration with lower energy already meets the budget");
                ++dominated;
            }
        alive = aliveOnes();
        if (!full && alive.size() > 1) {
            std::sort(alive.begin(), alive.end(), [](const Candidate* a, const Candidate* b) {
                return a->point.compile.energyPj < b->point.compile.energyPj;
            });
            const Candidate* accurate = *std::max_element(alive.begin(), alive.end(), [](auto* a, auto* b) {
                return a->point.accuracy->accuracy() < b->point.accuracy->accuracy();
            });
            const size_t keep = (alive.size() + size_t(eta) - 1) / size_t(eta);
            for (size_t k = keep; k < alive.size(); ++k)
                if (alive[k] != accurate && alive[k]->point.compile.energyPj < anchor) {
                    eliminate(*alive[k], at + ": not among the 1/" + std::to_string(eta) +
                                             " lowest-energy candidates that may meet the budget");
                    ++cut;
                }
        }
        result_.rounds.push_back(at + ": " + std::to_string(alive.size() + size_t(tooInaccurate + dominated)) +
                                 " evaluated, " + std::to_string(tooInaccurate) + " below the budget, " +
                                 std::to_string(dominated) + " costlier than one within it, " + std::to_string(cut) +
                                 " cut by halving, " + std::to_string(aliveOnes().size()) + " continue");
        if (full)
            break;
        images = std::min(n_, images * eta);
    }

    for (Candidate& c : all) { // grid order; best = cheapest fully evaluated within the budget
        const bool qualifies = c.point.eliminated.empty() && c.point.compile.mapped && c.point.accuracy &&
                               c.point.accuracy->samples == n_ && c.point.accuracy->accuracy() >= budget;
        finish(std::move(c.point), configs_[c.config]);
        const SweepPoint& p = result_.points.back();
        if (qualifies && (!result_.best || p.compile.energyPj < result_.points[*result_.best].compile.energyPj))
            result_.best = result_.points.size() - 1;
    }
}

} // namespace stc::store::detail
