#include "target/package_files.h"

#include "interp/thread_pool.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iterator>
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

bool isPackageManifest(const std::string& text)
{
    // writePackage's layout (an object dumped with one space of indentation,
    // then a newline): the line of a top-level key is the only one indented by
    // exactly one space. Found without parsing the cores' 2.7 MB of entries.
    if (text.starts_with("{\n \"") && text.ends_with("\n}\n") &&
        text.find("\n \"format\": \"stc.package/") != std::string::npos)
        return true;
    const nlohmann::json m = nlohmann::json::parse(text, nullptr, false);
    return m.is_object() && m.contains("format") && m["format"].is_string() &&
           m["format"].get<std::string>().starts_with("stc.package/");
}

bool preparePackageDir(const std::string& dir, std::vector<std::string>* oldFiles, std::string* error)
{
    const fs::path root(dir);
    std::error_code ec;
    if (fs::exists(root, ec)) {
        if (!fs::is_directory(root, ec))
            return setError(error, dir + " exists and is not a directory");
        if (!fs::is_empty(root, ec)) {
            const fs::path manifest = root / "manifest.json";
            std::ifstream mf(manifest, std::ios::binary);
            if (!mf)
                return setError(error, dir + " is not empty and holds no manifest.json (not a package); "
                                             "refusing to write a package into it");
            const std::string text{std::istreambuf_iterator<char>(mf), std::istreambuf_iterator<char>()};
            mf.close();
            if (!isPackageManifest(text))
                return setError(error, manifest.string() + " is not an STC package manifest; refusing to replace it");
            // Every blob-named file in cores/: the old manifest's blobs and any
            // an older writer left behind; other files are never touched.
            for (const auto& e : fs::directory_iterator(root / "cores", ec))
                if (e.is_regular_file(ec) && isCoreBlobName("cores/" + e.path().filename().string()))
                    oldFiles->push_back("cores/" + e.path().filename().string());
            if (!fs::remove(manifest, ec) || ec)
                return setError(error, "cannot remove the old " + manifest.string() + ": " + ec.message());
        }
    }
    fs::create_directories(root, ec);
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
    const fs::path cores = fs::path(dir) / "cores";
    if (fs::is_directory(cores, ec) && fs::is_empty(cores, ec))
        fs::remove(cores, ec);
}

bool writeCoreBlobs(const std::vector<PackageCore>& cores, const std::string& dir, const std::string& file,
                    int threads, std::vector<BlobRef>& refs, std::string* error, size_t chunk,
                    const std::function<void()>& placed)
{
    const fs::path path = fs::path(dir) / file;
    // A file there (the package being replaced) is overwritten in place and cut
    // to the new length at the end: truncating it first frees its page-cache
    // pages, which the new blobs then allocate again (the truncation alone took
    // ≈ 0.09 s for 275 MB here). The manifest is gone meanwhile, as with a
    // fresh file.
    std::ofstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    if (!f.is_open())
        f.open(path, std::ios::binary | std::ios::trunc);
    if (!f)
        return setError(error, "cannot write " + path.string());
    refs.assign(cores.size(), BlobRef{file, 0, 0});
    interp::ThreadPool pool(std::min<int>(threads < 1 ? 0 : threads, int(std::max<size_t>(1, cores.size()))));
    // A chunk of cores is encoded on every thread, then appended in core order.
    // Large chunks (256 by default): few joins (a worker preempted by another
    // process stalls each join), and at most two chunks of blobs in memory:
    // with several threads, one chunk is written (a copy into the page cache,
    // one thread) while the next is encoded. The file and the offsets are the same.
    chunk = std::max<size_t>(1, chunk);
    std::vector<std::vector<uint8_t>> blobs[2];
    int64_t offset = 0;
    auto append = [&](size_t b, const std::vector<std::vector<uint8_t>>& done) {
        for (size_t k = b; k < std::min(cores.size(), b + chunk); ++k)
            f.write(reinterpret_cast<const char*>(done[k - b].data()), std::streamsize(done[k - b].size()));
    };
    std::future<void> writing;
    for (size_t b = 0, which = 0; b < cores.size(); b += chunk, which ^= 1) {
        const size_t e = std::min(cores.size(), b + chunk);
        std::vector<std::vector<uint8_t>>& out = blobs[which];
        out.resize(e - b);
        pool.parallelFor(int64_t(e - b), [&](int64_t k, int) { out[size_t(k)] = encodeCore(cores[b + size_t(k)]); });
        for (size_t k = b; k < e; ++k) {
            refs[k].offset = offset;
            refs[k].bytes = int64_t(out[k - b].size());
            offset += refs[k].bytes;
        }
        if (writing.valid())
            writing.get(); // the previous chunk is written before this one
        if (pool.size() == 1)
            append(b, out);
        else
            writing = std::async(std::launch::async, append, b, std::cref(out));
    }
    if (placed)
        placed(); // while the last chunk is written
    if (writing.valid())
        writing.get();
    f.close();
    if (!f)
        return setError(error, "cannot write " + path.string());
    std::error_code ec;
    fs::resize_file(path, uintmax_t(offset), ec); // an old file's tail goes
    if (ec)
        return setError(error, "cannot cut " + path.string() + " to its new length: " + ec.message());
    return true;
}

bool readCoreBlobs(const std::string& dir, const std::vector<BlobRef>& refs, int threads,
                   std::vector<PackageCore>& cores, std::string* error)
{
    cores.assign(refs.size(), PackageCore{});
    std::vector<std::string> errors(refs.size());
    interp::ThreadPool pool(std::min<int>(threads < 1 ? 0 : threads, int(std::max<size_t>(1, refs.size()))));
    pool.parallelFor(int64_t(refs.size()), [&](int64_t k, int) {
        const BlobRef& ref = refs[size_t(k)];
        // Errors name the file and, for a file of several cores, the core.
        const std::string where = ref.bytes < 0 ? ref.file : ref.file + " (core " + std::to_string(k) + ")";
        std::ifstream f(fs::path(dir) / ref.file, std::ios::binary);
        if (!f) {
            errors[size_t(k)] = "missing core blob " + where;
            return;
        }
        f.seekg(0, std::ios::end);
        const int64_t size = std::max<int64_t>(0, int64_t(f.tellg()));
        const int64_t bytes = ref.bytes < 0 ? size : ref.bytes;
        if (ref.bytes >= 0 && (ref.offset < 0 || ref.offset > size || bytes > size - ref.offset)) {
            errors[size_t(k)] = "truncated core blob " + where;
            return;
        }
        f.seekg(ref.bytes < 0 ? 0 : ref.offset);
        std::vector<uint8_t> blob(static_cast<size_t>(bytes));
        if (!f.read(reinterpret_cast<char*>(blob.data()), std::streamsize(blob.size()))) {
            errors[size_t(k)] = (ref.bytes < 0 ? "cannot read core blob " : "truncated core blob ") + where;
            return;
        }
        std::string err;
        auto core = decodeCore(blob, &err);
        if (!core)
            errors[size_t(k)] = where + ": " + err;
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
