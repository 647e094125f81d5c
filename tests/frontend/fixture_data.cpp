#include "fixture_data.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace stc::test {

bool loadRefFile(const std::string& path, RefFile& out, std::string& error)
{
    std::ifstream in(path);
    if (!in) {
        error = "cannot open " + path;
        return false;
    }
    try {
        const nlohmann::json j = nlohmann::json::parse(in);
        out.model = j.value("model", "");
        out.exportKind = j.value("export", "");
        out.timesteps = j.value("timesteps", 0);
        out.inputShape = j.at("input_shape").get<std::vector<int64_t>>();
        out.stateful = j.value("stateful", false) || (j.contains("extra") && j["extra"].value("stateful", false));
        const std::string file = j.value("file", "");
        std::filesystem::path dir = std::filesystem::path(path).parent_path();
        std::string stem = std::filesystem::path(path).filename().string();
        stem = stem.substr(0, stem.size() - std::string(".ref.json").size());
        out.modelPath = (dir / (file.empty() ? stem + ".pt" : std::filesystem::path(file).filename().string())).string();
        for (const auto& c : j.at("cases")) {
            RefCase rc;
            rc.name = c.value("name", "");
            rc.input = c.at("input").get<std::vector<float>>();
            rc.logits = c.at("logits").get<std::vector<float>>();
            if (c.contains("lif"))
                for (const auto& [k, v] : c["lif"].items())
                    rc.spikeTotals[k] = v.at("total").get<int64_t>();
            out.cases.push_back(std::move(rc));
        }
    } catch (const std::exception& e) {
        error = path + ": " + e.what();
        return false;
    }
    return true;
}

std::vector<std::string> refFilesIn(const std::string& dir)
{
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        const std::string suffix = ".ref.json";
        if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
            out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

bool allClose(const std::vector<float>& got, const std::vector<float>& want, std::string* where, double* maxErr)
{
    if (got.size() != want.size()) {
        if (where)
            *where = "size " + std::to_string(got.size()) + " vs " + std::to_string(want.size());
        return false;
    }
    bool ok = true;
    double worst = 0.0;
    for (size_t i = 0; i < got.size(); ++i) {
        const double d = std::abs(double(got[i]) - double(want[i]));
        worst = std::max(worst, d);
        if (ok && !(d <= 1e-5 + 1e-4 * std::abs(double(want[i])))) {
            ok = false;
            if (where) {
                std::ostringstream os;
                os << "index " << i << ": got " << got[i] << ", want " << want[i];
                *where = os.str();
            }
        }
    }
    if (maxErr)
        *maxErr = worst;
    return ok;
}

} // namespace stc::test
