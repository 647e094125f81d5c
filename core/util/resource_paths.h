// Where STC's data files (chip descriptors, bundled models, syntax files) live.
// Searched in order: $STC_RESOURCE_DIR, <exe dir>/../share/stc (installed
// layout), the installed data directories (<prefix>/share/stc of the build's
// install prefix and of the .deb: programs linked against an installed
// stc_core run from anywhere), and the source tree's resources/ (build tree).
#pragma once

#include <string>
#include <vector>

namespace stc::util {

std::vector<std::string> resourceDirs();

// "a:b::c" -> {"a", "b", "c"}: a colon-separated directory list, empty parts dropped.
std::vector<std::string> splitPathList(const std::string& list);

// First existing "<dir>/<relative>" over resourceDirs(), or "" when none exists.
std::string findResource(const std::string& relative);

// Directory of the running executable ("" if unknown).
std::string executableDir();

} // namespace stc::util
