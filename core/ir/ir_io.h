// Loading and saving Spike IR text files (.sir) with located diagnostics.
#pragma once

#include "ir/module.h"
#include "util/diagnostics.h"

#include <optional>
#include <string>
#include <string_view>

namespace stc::ir {

class CustomOpRegistry;

struct LoadOptions {
    bool verify = true; // run verify() after a successful parse
    const CustomOpRegistry* customOps = nullptr; // resolves custom op names (parseModule)
};

struct LoadResult {
    // Set whenever the text parsed, even if verification then found errors
    // (so the IDE can still show the graph); check ok() before compiling.
    std::optional<Module> module;
    Diagnostics diagnostics;
    SourceLoc moduleLoc;

    bool ok() const { return module.has_value() && !diagnostics.hasErrors(); }
};

// Reads `path`, parses it (diagnostics carry `path` as the file name) and verifies.
LoadResult loadModule(const std::string& path, const LoadOptions& options = {});
// Same for text already in memory; `fileName` is only used in diagnostics.
LoadResult loadModuleFromText(std::string_view text, const std::string& fileName, const LoadOptions& options = {});

// Writes the canonical text. The file is replaced atomically (written next
// to it, then renamed), so a failed save never leaves a truncated file.
Diagnostics saveModule(const Module& m, const std::string& path);

// Whole-file read/write helpers; on failure return false and set `error`.
bool readTextFile(const std::string& path, std::string& contents, std::string& error);
bool writeTextFileAtomic(const std::string& path, std::string_view contents, std::string& error);

} // namespace stc::ir
