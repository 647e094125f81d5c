#include "util/resource_paths.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#ifndef STC_SOURCE_RESOURCE_DIR
#define STC_SOURCE_RESOURCE_DIR ""
#endif
#ifndef STC_INSTALL_RESOURCE_DIRS
#define STC_INSTALL_RESOURCE_DIRS ""
#endif

namespace stc::util {

namespace fs = std::filesystem;

std::string executableDir()
{
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string() : exe.parent_path().string();
}

std::vector<std::string> resourceDirs()
{
    std::vector<std::string> dirs;
    auto add = [&](const fs::path& p) {
        std::error_code ec;
        if (p.empty() || !fs::is_directory(p, ec))
            return;
        const std::string s = fs::weakly_canonical(p, ec).string();
        for (const auto& d : dirs)
            if (d == s)
                return;
        dirs.push_back(s);
    };
    if (const char* env = std::getenv("STC_RESOURCE_DIR"))
        add(env);
    if (const std::string exe = executableDir(); !exe.empty())
        add(fs::path(exe) / ".." / "share" / "stc");
    for (const std::string& dir : splitPathList(STC_INSTALL_RESOURCE_DIRS))
        add(dir);
    add(STC_SOURCE_RESOURCE_DIR);
    return dirs;
}

std::vector<std::string> splitPathList(const std::string& list)
{
    std::vector<std::string> parts;
    for (std::size_t start = 0; start <= list.size();) {
        const std::size_t end = std::min(list.find(':', start), list.size());
        if (end > start)
            parts.push_back(list.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

std::string findResource(const std::string& relative)
{
    for (const auto& dir : resourceDirs()) {
        std::error_code ec;
        const fs::path p = fs::path(dir) / relative;
        if (fs::exists(p, ec))
            return p.string();
    }
    return {};
}

} // namespace stc::util
