// The mapping steps as passes of the pass manager: `partition`, `place`,
// `route` (analysis passes: they leave the IR unchanged and fill a
// TargetSession). Registration is explicit, like the built-in passes:
//
//   auto session = std::make_shared<target::TargetSession>();
//   passes::PassRegistry reg = passes::makeBuiltinRegistry();
//   target::registerTargetPasses(reg, session);
//   runPipeline(module, parsePipeline("fold-bn,partition{chip=loihi3 chips=2},place,route", ...), reg, ctx);
//   session->mapping   // what the IDE draws and the backend packages
#pragma once

#include "passes/registry.h"
#include "target/layer_check.h"
#include "target/mapper.h"
#include "target/network_extract.h"

#include <memory>
#include <optional>

namespace stc::target {

struct TargetSession {
    std::optional<ChipDescriptor> chip;
    Network network;
    RateProfile rates;
    MapOptions options;
    Partition partition;
    Mapping mapping;
    bool partitioned = false, placed = false, routed = false;
    // Optional target-specific per-layer check (the chip's backend plugin),
    // run by `partition` after the descriptor-driven check and before network
    // extraction; every issue is a located error and stops the pass. Kept
    // when partition resets the session, as are options.threads and
    // options.encodeWhilePlacing.
    LayerCheck layerCheck;
    std::vector<LayerIssue> layerIssues; // what the last partition reported
};

// Properties "partitioned", "placed", "routed" (provided only by the passes).
void registerTargetPasses(passes::PassRegistry& registry, std::shared_ptr<TargetSession> session);

} // namespace stc::target
