#include "target/package_files.h"

#include "interp/thread_pool.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

namespace stc::target {

namespace fs = std::filesystem;

namespace {

// Only names this writer produces ("cores/" digits ".bin") are ever deleted.
bool isCoreBlobName(const std::string& name)
{
    const std::string head = "cores/", tail = ".bin";
    if (name.size() <= head.size() + tail.size() || name.compare(0, head.size(), head) != 0 ||
        name.compare(name.size() - tail.size(), tail.size(), tail) != 0)
        return false;
    return std::all_of(name.begin() + long(head.size()), name.end() - long(tail.size()),
                       [](char c) { return c >= '0' && c <= '9'; });
}

bool setError(std::string* error, const std::string& what)
{
    if (error)
        *error = what;
    return false;
}

} // namespace

bool preparePackageDir(const std::string& dir, std::vector<std::string>* oldFiles, std::string* error)
{
    const fs::path root(dir);
    std::error_code ec;
    if (fs::exists(root, ec)) {
        if (!fs::is_directory(root, ec))
            return setError(error, dir + " exists and is not a directory");
        if (!fs::is_empty(root, ec)) {
            const fs::path manifest = root / "manifest.json";
            std::ifstream mf(manifest);
            if (!mf)
                return setError(error, dir + " is not empty and holds no manifest.json (not a package); "
                                             "refusing to write a package into it");
            const nlohmann::json old = nlohmann::json::parse(mf, nullptr, false);
            const bool isPackage = old.is_object() && old.contains("format") && old["format"].is_string() &&
                                   old["format"].get<std::string>().rfind("stc.package/", 0) == 0;
            if (!isPackage)
                return setError(error, manifest.string() + " is not an STC package manifest; refusing to replace it");
            // Every blob-named file in cores/: the old manifest's blobs and any
            // an older writer left behind; other files are never touched.
            for (const auto& e : fs::directory_iterator(root / "cores", ec))
                if (e.is_regular_file(ec) && isCoreBlobName("cores/" + e.path().filename().string()))
                    oldFiles->push_back("cores/" + e.path().filename().string());
            mf.close();
            if (!fs::remove(manifest, ec) || ec)
                return setError(error, "cannot remove the old " + manifest.string() + ": " + ec.message());
        }
    }
    fs::create_directories(root / "cores", ec);
    if (ec)
        return setError(error, "cannot create " + dir + ": " + ec.message());
    return true;
}

void removeStaleFiles(const std::string& dir, const std::vector<std::string>& oldFiles,
                      const std::vector<std::string>& newFiles)
{
    const std::set<std::string> keep(newFiles.begin(), newFiles.end());
    std::error_code ec;
    for (const std::string& f : oldFiles)
        if (!keep.count(f))
            fs::remove(fs::path(dir) / f, ec);
}

bool writeCoreBlobs(const std::vector<PackageCore>& cores, const std::string& dir,
                    const std::vector<std::string>& files, int threads, std::string* error)
{
    std::vector<char> failed(cores.size(), 0);
    interp::ThreadPool pool(std::min<int>(threads < 1 ? 0 : threads, int(std::max<size_t>(1, cores.size()))));
    pool.parallelFor(int64_t(cores.size()), [&](int64_t k, int) {
        const std::vector<uint8_t> blob = encodeCore(cores[size_t(k)]);
        std::ofstream f(fs::path(dir) / files[size_t(k)], std::ios::binary);
        f.write(reinterpret_cast<const char*>(blob.data()), std::streamsize(blob.size()));
        failed[size_t(k)] = !f;
    });
    for (size_t k = 0; k < cores.size(); ++k)
        if (failed[k])
            return setError(error, "cannot write " + (fs::path(dir) / files[k]).string());
    return true;
}

bool readCoreBlobs(const std::string& dir, const std::vector<std::string>& files, int threads,
                   std::vector<PackageCore>& cores, std::string* error)
{
    cores.assign(files.size(), PackageCore{});
    std::vector<std::string> errors(files.size());
    interp::ThreadPool pool(std::min<int>(threads < 1 ? 0 : threads, int(std::max<size_t>(1, files.size()))));
    pool.parallelFor(int64_t(files.size()), [&](int64_t k, int) {
        const std::string& file = files[size_t(k)];
        std::ifstream f(fs::path(dir) / file, std::ios::binary);
        if (!f) {
            errors[size_t(k)] = "missing core blob " + file;
            return;
        }
        f.seekg(0, std::ios::end);
        std::vector<uint8_t> blob(size_t(std::max<std::streamoff>(0, f.tellg())));
        f.seekg(0);
        if (!f.read(reinterpret_cast<char*>(blob.data()), std::streamsize(blob.size()))) {
            errors[size_t(k)] = "cannot read core blob " + file;
            return;
        }
        std::string err;
        auto core = decodeCore(blob, &err);
        if (!core)
            errors[size_t(k)] = file + ": " + err;
        else
            cores[size_t(k)] = std::move(*core);
    });
    for (const std::string& e : errors)
        if (!e.empty())
            return setError(error, e);
    return true;
}

bool writeFileAtomically(const std::string& path, const std::string& text)
{
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary);
        f << text;
        if (!f)
            return false;
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    return !ec;
}

} // namespace stc::target
