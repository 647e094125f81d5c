// Spike IR text parser (format: docs/spike-ir.md).
//
// The parser checks syntax, resolves value names (SSA: a value is used after
// its definition) and decodes constant payloads against their declared type.
// It stops at the first error. Everything semantic (operand counts, attribute
// kinds, type inference) is left to verify(), which reports all problems, so
// any module the printer prints parses back — even one that does not verify.
#pragma once

#include "ir/module.h"
#include "util/diagnostics.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stc::ir {

struct TextPos {
    int line = 0;
    int col = 0;
};

struct ParseResult {
    std::optional<Module> module; // empty when parsing failed
    Diagnostics diagnostics;      // the first syntax error, if any
    SourceLoc moduleLoc;          // where `module` is written (for module-level diagnostics)
    // operandPos[i][k]: where operand k of op i is written (Op::textLoc
    // holds the op's own position).
    std::vector<std::vector<TextPos>> operandPos;

    bool ok() const { return module.has_value(); }
};

class CustomOpRegistry;

// `fileName` goes into every SourceLoc (diagnostics, Op::textLoc). Custom op
// names ("custom.sdt_mask_add") resolve through `customOps`; without it (or
// when it lacks the name) they are a located error naming the plugin that
// would provide the op, if one advertised it.
ParseResult parseModule(std::string_view text, const std::string& fileName = {},
                        const CustomOpRegistry* customOps = nullptr);

} // namespace stc::ir
