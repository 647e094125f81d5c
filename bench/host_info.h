// Facts about the host recorded next to a benchmark's timings.
#pragma once

#include <fstream>
#include <string>

namespace stc::bench {

// The 1-minute load average (other work on the machine skews the timings).
inline double loadAverage()
{
    std::ifstream in("/proc/loadavg");
    double load = -1.0;
    in >> load;
    return load;
}

// The BLAS library mapped into this process (resolved path), or "" if none.
// LibTorch's linear/matmul go through libblas.so.3: Debian's reference BLAS
// and OpenBLAS differ about 3x on these models, so every LibTorch timing
// names the one it used. Call it after LibTorch is loaded.
inline std::string blasLibrary()
{
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        const auto slash = line.find('/');
        if (slash == std::string::npos)
            continue;
        const std::string path = line.substr(slash);
        const std::string file = path.substr(path.rfind('/') + 1);
        if (file.find("blas") != std::string::npos && file.find("cblas") == std::string::npos)
            return path;
    }
    return {};
}

} // namespace stc::bench
