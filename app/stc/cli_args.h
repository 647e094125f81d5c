// Tiny argument helpers shared by the subcommands.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace stc::cli {

// Finds `--name value` or `--name=value`; removes it from args when found.
std::optional<std::string> takeOption(std::vector<std::string>& args, const std::string& name,
                                      const std::string& shortName = {});
// Finds a bare flag `--name`; removes it.
bool takeFlag(std::vector<std::string>& args, const std::string& name);
// "1,1,28,28" -> {1,1,28,28}; nullopt on a malformed list.
std::optional<std::vector<int64_t>> parseIntList(const std::string& text);
// Takes `--input-shape 1,1,28,28`; on a malformed list prints an error naming
// `command` and sets `bad`. nullopt when the option is absent (or bad).
std::optional<std::vector<int64_t>> takeInputShape(std::vector<std::string>& args, const char* command, bool& bad);
// Any leftover `-x`/`--x` argument is an unknown option: prints and returns true.
bool reportUnknownOptions(const std::vector<std::string>& args, const char* command);

} // namespace stc::cli
