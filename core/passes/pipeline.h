// A pipeline: ordered entries {pass, option values, enabled}. The text form
// round-trips, parse(print(p)) == p:
//
//   fold-bn,fuse,quantize{bits=8 per-channel=true},-prune{sparsity=0.5}
//
// A leading '-' marks a disabled entry. Options print in the pass's spec
// order, and exactly the options set explicitly (a value equal to the default
// stays when it was written), so an entry means what the user wrote.
#pragma once

#include "passes/options.h"
#include "passes/registry.h"
#include "util/diagnostics.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stc::ir {
class Module;
}

namespace stc::passes {

struct PipelineEntry {
    std::string pass;
    OptionMap options; // explicit values only
    bool enabled = true;
    int column = 0;    // where it was parsed from (1-based); not part of equality

    friend bool operator==(const PipelineEntry& a, const PipelineEntry& b)
    {
        return a.pass == b.pass && a.options == b.options && a.enabled == b.enabled;
    }
};

struct Pipeline {
    std::vector<PipelineEntry> entries;

    // Appends an entry; `options` values are checked against the spec when
    // the pipeline is validated, not here.
    Pipeline& add(std::string pass, OptionMap options = {}, bool enabled = true);
    // Prints without a registry: options in name order.
    std::string print() const;
    // Prints with options in each pass's spec order.
    std::string print(const PassRegistry& registry) const;

    friend bool operator==(const Pipeline&, const Pipeline&) = default;
};

// Parses pipeline text. Errors (with 1-based columns, line 1) go to `diags`:
// syntax (unbalanced braces, missing '='), unknown pass (with the closest
// name), unknown option, bad value, out of range. Returns nullopt on error.
std::optional<Pipeline> parsePipeline(std::string_view text, const PassRegistry& registry, Diagnostics& diags);

// Checks names and option values of a programmatically built pipeline
// (the IDE's options editor) the same way the parser does.
bool validateEntries(const Pipeline& p, const PassRegistry& registry, Diagnostics& diags);

// Order constraints. For each enabled entry, each property it needs must be
// provided by an earlier enabled entry (and not invalidated since) or, when
// `input` is given, already hold on the input IR (and not be invalidated
// since). Disabled entries and passes in `disabledPasses` do not count.
// Errors read "quantize needs fold-bn before it (requires property 'bn-folded')".
bool checkOrder(const Pipeline& p, const PassRegistry& registry, const ir::Module* input, Diagnostics& diags,
                const std::vector<std::string>& disabledPasses = {});

} // namespace stc::passes
