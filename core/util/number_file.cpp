#include "util/number_file.h"

#include "ir/ir_io.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

namespace stc::util {

bool readNumberFile(const std::string& path, std::vector<float>& values, std::string& error)
{
    std::string text;
    if (!ir::readTextFile(path, text, error))
        return false;
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (!json.is_discarded() && json.is_array()) {
        for (const auto& v : json.flatten()) {
            if (!v.is_number()) {
                error = path + ": expected only numbers in the JSON array";
                return false;
            }
            values.push_back(v.get<float>());
        }
        return true;
    }
    std::replace(text.begin(), text.end(), ',', ' ');
    std::istringstream in(text);
    float v;
    while (in >> v)
        values.push_back(v);
    if (!in.eof()) {
        error = path + ": expected numbers (a JSON array or whitespace-separated values)";
        return false;
    }
    return true;
}

} // namespace stc::util
