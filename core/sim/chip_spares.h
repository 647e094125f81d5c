// Internal to core/sim (core_major.cpp): chip states that finished
// core-major runs leave with their plan, for the next run to take.
#pragma once

#include "sim/pull_outbox.h"
#include "sim/pull_plan.h"
#include "sim/worker.h"

#include <memory>
#include <mutex>

namespace stc::sim::detail {

// A chip state with the dirty flags of its slices, kept with the plan
// between runs (CoreMajorPlan::spares): the flags say which accumulators may
// hold something, as they do between the components of one run, so a run
// that takes it is exact without zeroing the chip first.
struct SpareState {
    std::vector<CoreState> state;
    std::vector<char> dirty;
    std::vector<pulled::Arena> arenas; // their item blocks (fresh pages fault in every call)
};
inline constexpr size_t kSpares = 4;

inline std::shared_ptr<SpareState> takeSpare(const CoreMajorPlan& plan, const SimProgram& prog)
{
    std::shared_ptr<SpareState> s;
    {
        std::lock_guard lock(plan.spareMu);
        if (!plan.spares.empty()) {
            s = std::static_pointer_cast<SpareState>(plan.spares.back());
            plan.spares.pop_back();
        }
    }
    if (!s || !stateFits(prog, s->state) || s->dirty.size() != plan.graph.nodes.size())
        s = std::make_shared<SpareState>(SpareState{makeState(prog), {}, {}});
    return s;
}

} // namespace stc::sim::detail
