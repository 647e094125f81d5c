#include "store/pipeline_text.h"

#include "passes/pipeline.h"
#include "target/target_passes.h"

#include <memory>

namespace stc::store {

std::optional<std::string> irPipelineOf(const std::string& recordedPipeline, std::string* error)
{
    passes::PassRegistry registry = passes::makeBuiltinRegistry();
    target::registerTargetPasses(registry, std::make_shared<target::TargetSession>());
    Diagnostics d;
    auto parsed = passes::parsePipeline(recordedPipeline, registry, d);
    if (!parsed) {
        if (error)
            *error = d.items().empty() ? std::string("bad pipeline") : d.items().front().message;
        return std::nullopt;
    }
    std::erase_if(parsed->entries, [](const passes::PipelineEntry& e) {
        return e.pass == "partition" || e.pass == "place" || e.pass == "route";
    });
    return parsed->print(registry);
}

} // namespace stc::store
