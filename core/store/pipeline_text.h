// Pipeline text as the store records it (RunMeta::pipeline: everything that
// ran, ending in the mapping passes) and the part of it a user edits.
#pragma once

#include <optional>
#include <string>

namespace stc::store {

// The IR part of a recorded pipeline (RunMeta::pipeline holds everything that
// ran, ending in the mapping passes partition/place/route): the same text
// without the mapping entries, printed as the pass registry prints it. This is
// what the IDE's pass panel edits. nullopt with `error` when the text does
// not parse.
std::optional<std::string> irPipelineOf(const std::string& recordedPipeline, std::string* error = nullptr);

} // namespace stc::store
