#include "ir/ir_io.h"

#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace stc::ir {

namespace {

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

} // namespace

bool readTextFile(const std::string& path, std::string& contents, std::string& error)
{
    FilePtr f(std::fopen(path.c_str(), "rb"));
    if (!f) {
        error = "cannot open '" + path + "': " + std::strerror(errno);
        return false;
    }
    contents.clear();
    if (std::fseek(f.get(), 0, SEEK_END) == 0) {
        const long size = std::ftell(f.get());
        if (size > 0)
            contents.reserve(static_cast<size_t>(size));
        std::rewind(f.get());
    }
    char buf[1 << 16];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0)
        contents.append(buf, n);
    if (std::ferror(f.get())) {
        error = "cannot read '" + path + "': " + std::strerror(errno);
        return false;
    }
    return true;
}

bool writeTextFileAtomic(const std::string& path, std::string_view contents, std::string& error)
{
    const std::string tmp = path + ".tmp";
    {
        FilePtr f(std::fopen(tmp.c_str(), "wb"));
        if (!f) {
            error = "cannot open '" + tmp + "' for writing: " + std::strerror(errno);
            return false;
        }
        const bool written = std::fwrite(contents.data(), 1, contents.size(), f.get()) == contents.size();
        const bool closed = std::fclose(f.release()) == 0;
        if (!written || !closed) {
            error = "cannot write '" + tmp + "': " + std::strerror(errno);
            std::remove(tmp.c_str());
            return false;
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        error = "cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(errno);
        std::remove(tmp.c_str());
        return false;
    }
    return true;
}

LoadResult loadModuleFromText(std::string_view text, const std::string& fileName, const LoadOptions& options)
{
    ParseResult parsed = parseModule(text, fileName, options.customOps);
    LoadResult result;
    result.diagnostics = std::move(parsed.diagnostics);
    result.moduleLoc = parsed.moduleLoc;
    if (!parsed.module)
        return result;
    if (options.verify)
        result.diagnostics.append(verify(*parsed.module, parsed.moduleLoc));
    result.module = std::move(parsed.module);
    return result;
}

LoadResult loadModule(const std::string& path, const LoadOptions& options)
{
    std::string text, error;
    if (!readTextFile(path, text, error)) {
        LoadResult result;
        result.diagnostics.error({path, 0, 0}, {}, error);
        return result;
    }
    return loadModuleFromText(text, path, options);
}

Diagnostics saveModule(const Module& m, const std::string& path)
{
    Diagnostics diags;
    std::string error;
    if (!writeTextFileAtomic(path, printModule(m), error))
        diags.error({path, 0, 0}, {}, error);
    return diags;
}

} // namespace stc::ir
