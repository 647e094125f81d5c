#include "model_input.h"

#include "plugin_host.h"

#include "ir/ir_io.h"

#include <QString>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace stc::cli {

std::optional<ir::Module> loadModelFile(const std::string& command, const std::string& path,
                                        const std::vector<int64_t>& inputShape, std::string* diagnostics)
{
    if (path.ends_with(".sir")) {
        ir::LoadResult in = ir::loadModule(path);
        if (diagnostics)
            *diagnostics = in.diagnostics.format();
        if (!in.ok()) {
            std::fprintf(stderr, "%s", in.diagnostics.format().c_str());
            return std::nullopt;
        }
        return std::move(*in.module);
    }
    QString err;
    frontend::Importer* importer = plugins::PluginHost::instance().importerFor(QString::fromStdString(path), &err);
    if (!importer) {
        std::fprintf(stderr, "%s: %s\n", command.c_str(), qPrintable(err));
        return std::nullopt;
    }
    frontend::ImportOptions opt;
    opt.inputShape = inputShape;
    frontend::ImportResult r = importer->importFile(path, opt);
    if (diagnostics)
        *diagnostics = r.diagnostics.format();
    if (!r.diagnostics.empty())
        std::fprintf(stderr, "%s", r.diagnostics.format().c_str());
    return std::move(r.module);
}

} // namespace stc::cli
