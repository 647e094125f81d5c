// Where STC's data files (chip descriptors, bundled models, syntax files) live.
// Searched in order: $STC_RESOURCE_DIR, <exe dir>/../share/stc (installed
// layout), and the source tree's resources/ (build tree).
#pragma once

#include <string>
#include <vector>

namespace stc::util {

std::vector<std::string> resourceDirs();

// First existing "<dir>/<relative>" over resourceDirs(), or "" when none exists.
std::string findResource(const std::string& relative);

// Directory of the running executable ("" if unknown).
std::string executableDir();

} // namespace stc::util
