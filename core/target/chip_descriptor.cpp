#include "target/chip_descriptor.h"

#include "ir/ops.h"
#include "util/resource_paths.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

namespace stc::target {

using nlohmann::json;

bool ChipDescriptor::supportsModel(const std::string& model) const
{
    return std::find(neuronModels.begin(), neuronModels.end(), model) != neuronModels.end();
}

const SynapseEncoding* ChipDescriptor::encoding(const std::string& n) const
{
    for (const auto& e : encodings)
        if (e.name == n)
            return &e;
    return nullptr;
}

bool ChipDescriptor::isDead(const CoreCoord& c) const
{
    return std::find(deadCores.begin(), deadCores.end(), c) != deadCores.end();
}

bool ChipDescriptor::isDeadLink(int chip, int x0, int y0, int x1, int y1) const
{
    for (const auto& l : deadLinks)
        if (l.chip == chip && ((l.x0 == x0 && l.y0 == y0 && l.x1 == x1 && l.y1 == y1) ||
                               (l.x0 == x1 && l.y0 == y1 && l.x1 == x0 && l.y1 == y0)))
            return true;
    return false;
}

int ChipDescriptor::projectedCount() const
{
    int n = 0;
    for (const auto& [path, p] : provenance)
        n += p.projected ? 1 : 0;
    return n;
}

namespace {

std::string describe(const json& v)
{
    if (v.is_string())
        return '"' + v.get<std::string>() + '"';
    std::string s = v.dump();
    return s.size() > 40 ? s.substr(0, 37) + "..." : s;
}

std::string typeName(const json& v)
{
    if (v.is_null())
        return "null";
    if (v.is_boolean())
        return "a boolean";
    if (v.is_number())
        return "a number";
    if (v.is_string())
        return "a string";
    if (v.is_array())
        return "an array";
    return "an object";
}

enum class Num { PositiveInt, NonNegInt, PositiveReal, NonNegReal };

// Reads the descriptor JSON into a ChipDescriptor, collecting every problem
// (not just the first) with the JSON path it was found at.
class Reader {
public:
    Reader(ChipDescriptor& chip, Diagnostics& diags, std::string file)
        : chip_(chip), diags_(diags), file_(std::move(file))
    {
    }

    void error(const std::string& path, const std::string& msg) { diags_.error({file_, 0, 0}, {}, path + ": " + msg); }
    void warning(const std::string& path, const std::string& msg)
    {
        diags_.warning({file_, 0, 0}, {}, path + ": " + msg);
    }

    const json* object(const json& parent, const std::string& key, const std::string& path)
    {
        auto it = parent.find(key);
        if (it == parent.end()) {
            error(path, "missing (expected an object)");
            return nullptr;
        }
        if (!it->is_object()) {
            error(path, "expected an object, got " + typeName(*it));
            return nullptr;
        }
        return &*it;
    }

    // Warns about keys a section does not know (typos would otherwise be
    // silently ignored and the default used).
    void checkKeys(const json& obj, const std::string& path, std::initializer_list<const char*> known)
    {
        for (auto it = obj.begin(); it != obj.end(); ++it) {
            bool ok = false;
            for (const char* k : known)
                ok = ok || it.key() == k;
            if (!ok)
                warning(path.empty() ? it.key() : path + "." + it.key(), "unknown key (ignored)");
        }
    }

    // A sourced value: {"value": V, "source": "..."} or {"value": V, "projected": "..."}.
    const json* sourced(const json& parent, const std::string& key, const std::string& path)
    {
        auto it = parent.find(key);
        if (it == parent.end()) {
            error(path, "missing (expected {\"value\": ..., \"source\"|\"projected\": \"...\"})");
            return nullptr;
        }
        if (!it->is_object()) {
            error(path, "expected {\"value\": ..., \"source\"|\"projected\": \"...\"}, got " + typeName(*it) + " " +
                            describe(*it) + " (every number needs a source or a stated projection)");
            return nullptr;
        }
        const json& o = *it;
        checkKeys(o, path, {"value", "source", "projected"});
        const bool hasSource = o.contains("source"), hasProjected = o.contains("projected");
        if (!hasSource && !hasProjected) {
            error(path, "missing source: give \"source\" (publication) or \"projected\" (the assumption)");
        } else if (hasSource && hasProjected) {
            error(path, "give either \"source\" or \"projected\", not both");
        } else {
            const json& text = hasSource ? o["source"] : o["projected"];
            if (!text.is_string() || text.get<std::string>().empty())
                error(path + (hasSource ? ".source" : ".projected"), "expected a non-empty string");
            else
                chip_.provenance[path] = {text.get<std::string>(), hasProjected};
        }
        if (!o.contains("value")) {
            error(path + ".value", "missing");
            return nullptr;
        }
        return &o["value"];
    }

    // Optional sourced lists: core.layer_ops (op names), core.weight_bit_widths
    // and core.input_weight_bit_widths (1..32).
    void readCapabilities(const json& core)
    {
        if (core.contains("layer_ops"))
            if (const json* ops = sourced(core, "layer_ops", "core.layer_ops")) {
                if (!ops->is_array() || ops->empty())
                    error("core.layer_ops", "expected a non-empty array of Spike IR op names, got " + describe(*ops));
                else
                    for (const auto& o : *ops) {
                        if (!o.is_string() || !ir::opKindFromName(o.get<std::string>()))
                            error("core.layer_ops", "expected Spike IR op names (docs/ir-reference.md), got " +
                                                        describe(o));
                        else
                            chip_.layerOps.push_back(o.get<std::string>());
                    }
            }
        for (const char* key : {"weight_bit_widths", "input_weight_bit_widths"}) {
            if (!core.contains(key))
                continue;
            const std::string path = std::string("core.") + key;
            const json* v = sourced(core, key, path);
            if (!v)
                continue;
            auto& out = std::string(key) == "weight_bit_widths" ? chip_.weightBitWidths : chip_.inputWeightBitWidths;
            if (!v->is_array() || v->empty()) {
                error(path, "expected a non-empty array of bit widths, got " + describe(*v));
                continue;
            }
            for (const auto& b : *v) {
                if (!b.is_number_integer() || b.get<int64_t>() < 1 || b.get<int64_t>() > 32)
                    error(path, "expected bit widths between 1 and 32, got " + describe(b));
                else
                    out.push_back(int(b.get<int64_t>()));
            }
        }
    }

    std::optional<double> number(const json& parent, const std::string& key, const std::string& path, Num kind)
    {
        const json* v = sourced(parent, key, path);
        if (!v)
            return std::nullopt;
        return checkNumber(*v, path, kind);
    }

    std::optional<double> checkNumber(const json& v, const std::string& path, Num kind)
    {
        const bool wantInt = kind == Num::PositiveInt || kind == Num::NonNegInt;
        const bool positive = kind == Num::PositiveInt || kind == Num::PositiveReal;
        const char* expected = kind == Num::PositiveInt   ? "a positive integer"
                               : kind == Num::NonNegInt   ? "a non-negative integer"
                               : kind == Num::PositiveReal ? "a positive number"
                                                          : "a non-negative number";
        if (!v.is_number() || (wantInt && !v.is_number_integer())) {
            error(path, std::string("expected ") + expected + ", got " + describe(v));
            return std::nullopt;
        }
        const double d = v.get<double>();
        if (!std::isfinite(d) || (positive ? d <= 0 : d < 0)) {
            error(path, std::string("expected ") + expected + ", got " + describe(v));
            return std::nullopt;
        }
        return d;
    }

    int64_t integer(const json& parent, const std::string& key, const std::string& path, Num kind, int64_t def = 0)
    {
        auto v = number(parent, key, path, kind);
        return v ? static_cast<int64_t>(*v) : def;
    }

    double real(const json& parent, const std::string& key, const std::string& path, Num kind)
    {
        return number(parent, key, path, kind).value_or(0.0);
    }

    std::optional<std::vector<int64_t>> intList(const json& parent, const std::string& key, const std::string& path,
                                                size_t n)
    {
        const json* v = sourced(parent, key, path);
        if (!v)
            return std::nullopt;
        if (!v->is_array() || v->size() != n) {
            error(path, "expected an array of " + std::to_string(n) + " positive integers, got " + describe(*v));
            return std::nullopt;
        }
        std::vector<int64_t> out;
        for (size_t i = 0; i < n; ++i) {
            auto d = checkNumber((*v)[i], path + "[" + std::to_string(i) + "]", Num::PositiveInt);
            if (!d)
                return std::nullopt;
            out.push_back(static_cast<int64_t>(*d));
        }
        return out;
    }

    std::string string(const json& parent, const std::string& key, bool required)
    {
        auto it = parent.find(key);
        if (it == parent.end()) {
            if (required)
                error(key, "missing (expected a string)");
            return {};
        }
        if (!it->is_string()) {
            error(key, "expected a string, got " + describe(*it));
            return {};
        }
        return it->get<std::string>();
    }

    void readEventCosts(const json& root, const std::string& section, EventCosts& out, bool latency)
    {
        const json* s = object(root, section, section);
        if (!s)
            return;
        const std::string p = section + ".";
        if (latency)
            checkKeys(*s, section,
                      {"synaptic_op", "synaptic_update", "neuron_update_active", "neuron_update_idle",
                       "spike_within_tile", "hop_ew", "hop_ns", "chip_link", "barrier_min", "barrier_max"});
        else
            checkKeys(*s, section,
                      {"synaptic_op", "synaptic_update", "neuron_update_active", "neuron_update_idle",
                       "spike_within_tile", "hop_ew", "hop_ns", "chip_link"});
        out.synapticOp = real(*s, "synaptic_op", p + "synaptic_op", Num::PositiveReal);
        out.synapticUpdate = real(*s, "synaptic_update", p + "synaptic_update", Num::NonNegReal);
        out.neuronUpdateActive = real(*s, "neuron_update_active", p + "neuron_update_active", Num::PositiveReal);
        out.neuronUpdateIdle = real(*s, "neuron_update_idle", p + "neuron_update_idle", Num::NonNegReal);
        out.spikeWithinTile = real(*s, "spike_within_tile", p + "spike_within_tile", Num::NonNegReal);
        out.hopEw = real(*s, "hop_ew", p + "hop_ew", Num::PositiveReal);
        out.hopNs = real(*s, "hop_ns", p + "hop_ns", Num::PositiveReal);
        out.chipLink = real(*s, "chip_link", p + "chip_link", Num::PositiveReal);
        if (latency) {
            chip_.barrierMinNs = real(*s, "barrier_min", p + "barrier_min", Num::NonNegReal);
            chip_.barrierMaxNs = real(*s, "barrier_max", p + "barrier_max", Num::NonNegReal);
        }
    }

    void readEncodings(const json& core)
    {
        const json* encs = object(core, "synapse_encodings", "core.synapse_encodings");
        if (!encs)
            return;
        checkKeys(*encs, "core.synapse_encodings", {"dense", "sparse", "conv_shared"});
        for (auto it = encs->begin(); it != encs->end(); ++it) {
            const std::string path = "core.synapse_encodings." + it.key();
            if (!it->is_object()) {
                error(path, "expected an object, got " + typeName(*it));
                continue;
            }
            checkKeys(*it, path, {"available", "row_header_bytes", "run_header_bytes", "index_bits", "row_align_bytes"});
            const json* avail = sourced(*it, "available", path + ".available");
            if (avail && !avail->is_boolean()) {
                error(path + ".available", "expected true or false, got " + describe(*avail));
                continue;
            }
            SynapseEncoding e;
            e.name = it.key();
            e.rowHeaderBytes = integer(*it, "row_header_bytes", path + ".row_header_bytes", Num::NonNegInt);
            e.runHeaderBytes = integer(*it, "run_header_bytes", path + ".run_header_bytes", Num::NonNegInt);
            e.indexBits = integer(*it, "index_bits", path + ".index_bits", Num::NonNegInt);
            e.rowAlignBytes = integer(*it, "row_align_bytes", path + ".row_align_bytes", Num::PositiveInt, 1);
            if (avail && avail->get<bool>())
                chip_.encodings.push_back(e);
        }
    }

    void readFaults(const json& root)
    {
        auto it = root.find("faults");
        if (it == root.end())
            return;
        if (!it->is_object()) {
            error("faults", "expected an object, got " + typeName(*it));
            return;
        }
        checkKeys(*it, "faults", {"dead_cores", "dead_links"});
        auto readXY = [&](const json& v, const std::string& path, int& x, int& y) {
            if (!v.is_array() || v.size() != 2 || !v[0].is_number_integer() || !v[1].is_number_integer()) {
                error(path, "expected [x, y] tile coordinates, got " + describe(v));
                return false;
            }
            x = v[0].get<int>();
            y = v[1].get<int>();
            return true;
        };
        auto readChip = [&](const json& e, const std::string& path) {
            if (!e.contains("chip"))
                return 0;
            if (!e["chip"].is_number_integer()) {
                error(path + ".chip", "expected a chip index, got " + describe(e["chip"]));
                return -1;
            }
            return e["chip"].get<int>();
        };
        if (auto dc = it->find("dead_cores"); dc != it->end()) {
            if (!dc->is_array())
                error("faults.dead_cores", "expected an array, got " + typeName(*dc));
            else
                for (size_t i = 0; i < dc->size(); ++i) {
                    const json& e = (*dc)[i];
                    const std::string path = "faults.dead_cores[" + std::to_string(i) + "]";
                    if (!e.is_object() || !e.contains("tile")) {
                        error(path, "expected {\"chip\": c, \"tile\": [x, y], \"core\": k}, got " + describe(e));
                        continue;
                    }
                    CoreCoord c;
                    c.chip = readChip(e, path);
                    if (!readXY(e["tile"], path + ".tile", c.tileX, c.tileY))
                        continue;
                    if (e.contains("core")) {
                        if (!e["core"].is_number_integer()) {
                            error(path + ".core", "expected a core index, got " + describe(e["core"]));
                            continue;
                        }
                        c.core = e["core"].get<int>();
                    }
                    chip_.deadCores.push_back(c);
                    deadCorePaths_.push_back(path);
                }
        }
        if (auto dl = it->find("dead_links"); dl != it->end()) {
            if (!dl->is_array())
                error("faults.dead_links", "expected an array, got " + typeName(*dl));
            else
                for (size_t i = 0; i < dl->size(); ++i) {
                    const json& e = (*dl)[i];
                    const std::string path = "faults.dead_links[" + std::to_string(i) + "]";
                    if (!e.is_object() || !e.contains("from") || !e.contains("to")) {
                        error(path, "expected {\"chip\": c, \"from\": [x, y], \"to\": [x, y]}, got " + describe(e));
                        continue;
                    }
                    DeadLink l;
                    l.chip = readChip(e, path);
                    if (readXY(e["from"], path + ".from", l.x0, l.y0) && readXY(e["to"], path + ".to", l.x1, l.y1)) {
                        chip_.deadLinks.push_back(l);
                        deadLinkPaths_.push_back(path);
                    }
                }
        }
    }

    std::vector<std::string> deadCorePaths_, deadLinkPaths_;

private:
    ChipDescriptor& chip_;
    Diagnostics& diags_;
    std::string file_;
};

const std::set<std::string>& knownNeuronModels()
{
    static const std::set<std::string> m = {"lif", "if", "leaky", "relay", "and", "gate", "mul", "accumulate"};
    return m;
}

void checkConsistency(const ChipDescriptor& c, Diagnostics& d, const std::string& file,
                      const std::vector<std::string>& deadCorePaths, const std::vector<std::string>& deadLinkPaths)
{
    auto err = [&](const std::string& path, const std::string& msg) { d.error({file, 0, 0}, {}, path + ": " + msg); };
    const CoreLimits& l = c.limits;
    if (l.coreMemoryBytes > 0) {
        if (l.synapticMemoryBytes > l.coreMemoryBytes)
            err("core.limits.synaptic_memory_bytes",
                "synaptic memory (" + std::to_string(l.synapticMemoryBytes) + " B) exceeds core_memory_bytes (" +
                    std::to_string(l.coreMemoryBytes) + " B)");
        const int64_t state = l.neurons * l.neuronStateBytes;
        if (l.synapticMemoryBytes + state > l.coreMemoryBytes)
            err("core.limits",
                "synaptic memory (" + std::to_string(l.synapticMemoryBytes) + " B) + neurons x neuron_state_bytes (" +
                    std::to_string(state) + " B) exceeds core_memory_bytes (" + std::to_string(l.coreMemoryBytes) +
                    " B)");
    }
    if (l.weightBits > 32)
        err("core.limits.weight_bits", "expected at most 32, got " + std::to_string(l.weightBits));
    if (l.stateBits > 64)
        err("core.limits.state_bits", "expected at most 64, got " + std::to_string(l.stateBits));
    if (l.gradedSpikeBits > 32)
        err("core.limits.graded_spike_bits", "expected at most 32, got " + std::to_string(l.gradedSpikeBits));
    if (l.inputSpikeBits > 32)
        err("core.limits.input_spike_bits", "expected at most 32, got " + std::to_string(l.inputSpikeBits));
    if (c.barrierMinNs > c.barrierMaxNs)
        err("timing_ns.barrier_min", "barrier_min (" + std::to_string(c.barrierMinNs) + ") exceeds barrier_max (" +
                                         std::to_string(c.barrierMaxNs) + ")");
    if (c.topology == BoardTopology::Mesh2D && c.chipGrid[2] != 1)
        err("board.chip_grid", "a mesh2d board needs z = 1, got " + std::to_string(c.chipGrid[2]));
    if (c.encodings.empty())
        err("core.synapse_encodings", "no encoding is available");
    for (const auto& e : c.encodings) {
        if (e.name == "sparse" && e.indexBits < 63 && (int64_t(1) << e.indexBits) < l.neurons)
            err("core.synapse_encodings.sparse.index_bits",
                std::to_string(e.indexBits) + " bits cannot address " + std::to_string(l.neurons) + " neurons");
    }
    if (c.neuronModels.empty())
        err("core.neuron_models", "expected at least one neuron model");
    for (const auto& m : c.neuronModels)
        if (!knownNeuronModels().count(m))
            d.warning({file, 0, 0}, {}, "core.neuron_models: unknown model \"" + m + "\" (ignored by the mapper)");
    for (size_t i = 0; i < c.deadCores.size(); ++i) {
        const CoreCoord& k = c.deadCores[i];
        const std::string path = i < deadCorePaths.size() ? deadCorePaths[i] : "faults.dead_cores";
        if (k.chip < 0 || k.chip >= c.maxChips())
            err(path + ".chip", "chip " + std::to_string(k.chip) + " out of range (board has " +
                                    std::to_string(c.maxChips()) + " chips)");
        if (k.tileX < 0 || k.tileX >= c.tilesX || k.tileY < 0 || k.tileY >= c.tilesY)
            err(path + ".tile", "tile [" + std::to_string(k.tileX) + ", " + std::to_string(k.tileY) +
                                    "] outside the " + std::to_string(c.tilesX) + " x " + std::to_string(c.tilesY) +
                                    " tile grid");
        if (k.core < 0 || k.core >= c.coresPerTile)
            err(path + ".core", "core " + std::to_string(k.core) + " out of range (" +
                                    std::to_string(c.coresPerTile) + " cores per tile)");
    }
    for (size_t i = 0; i < c.deadLinks.size(); ++i) {
        const DeadLink& k = c.deadLinks[i];
        const std::string path = i < deadLinkPaths.size() ? deadLinkPaths[i] : "faults.dead_links";
        auto inGrid = [&](int x, int y) { return x >= 0 && x < c.tilesX && y >= 0 && y < c.tilesY; };
        if (k.chip < 0 || k.chip >= c.maxChips())
            err(path + ".chip", "chip " + std::to_string(k.chip) + " out of range");
        if (!inGrid(k.x0, k.y0) || !inGrid(k.x1, k.y1))
            err(path, "endpoint outside the " + std::to_string(c.tilesX) + " x " + std::to_string(c.tilesY) +
                          " tile grid");
        else if (std::abs(k.x0 - k.x1) + std::abs(k.y0 - k.y1) != 1)
            err(path, "endpoints are not adjacent tiles");
    }
}

int lineOf(const std::string& text, size_t byte, int* col)
{
    int line = 1;
    size_t lineStart = 0;
    for (size_t i = 0; i < byte && i < text.size(); ++i)
        if (text[i] == '\n') {
            ++line;
            lineStart = i + 1;
        }
    *col = static_cast<int>(byte - lineStart) + 1;
    return line;
}

} // namespace

Diagnostics validateChip(const ChipDescriptor& chip, const std::string& fileName)
{
    Diagnostics d;
    if (chip.tilesX < 1 || chip.tilesY < 1)
        d.error({fileName, 0, 0}, {}, "chip.tile_grid: expected a positive grid");
    if (chip.coresPerTile < 1)
        d.error({fileName, 0, 0}, {}, "chip.cores_per_tile: expected a positive integer, got " +
                                          std::to_string(chip.coresPerTile));
    const CoreLimits& l = chip.limits;
    auto positive = [&](int64_t v, const char* path) {
        if (v <= 0)
            d.error({fileName, 0, 0}, {}, std::string(path) + ": expected a positive integer, got " + std::to_string(v));
    };
    positive(l.neurons, "core.limits.neurons");
    positive(l.fanInAxons, "core.limits.fan_in_axons");
    positive(l.fanOutAxons, "core.limits.fan_out_axons");
    positive(l.synapticMemoryBytes, "core.limits.synaptic_memory_bytes");
    positive(l.weightBits, "core.limits.weight_bits");
    positive(l.gradedSpikeBits, "core.limits.graded_spike_bits");
    checkConsistency(chip, d, fileName, {}, {});
    return d;
}

// Offset of the first number literal (outside strings) that overflows a
// double, or 0: nlohmann::json reports such numbers without a position.
static size_t firstOverflowingNumber(const std::string& text)
{
    bool inString = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (inString) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                inString = false;
        } else if (c == '"') {
            inString = true;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t e = i + 1;
            while (e < text.size() && std::strchr("0123456789+-.eE", text[e]) && text[e] != '\0')
                ++e;
            if (std::isinf(std::strtod(text.substr(i, e - i).c_str(), nullptr)))
                return i;
            i = e - 1;
        }
    }
    return 0;
}

DescriptorLoad parseChipDescriptor(const std::string& text, const std::string& fileName)
{
    DescriptorLoad out;
    json root;
    try {
        root = json::parse(text);
    } catch (const json::parse_error& e) {
        int col = 0;
        const int line = lineOf(text, e.byte > 0 ? e.byte - 1 : 0, &col);
        std::string msg = e.what();
        if (auto p = msg.find("parse error"); p != std::string::npos)
            msg = msg.substr(p);
        out.diagnostics.error({fileName, line, col}, {}, "invalid JSON: " + msg);
        return out;
    } catch (const json::exception& e) { // e.g. a number too large for a double (no byte offset given)
        int col = 0;
        const int line = lineOf(text, firstOverflowingNumber(text), &col);
        out.diagnostics.error({fileName, line, col}, {}, std::string("invalid JSON: ") + e.what());
        return out;
    }
    if (!root.is_object()) {
        out.diagnostics.error({fileName, 0, 0}, {}, "expected a JSON object at the top level");
        return out;
    }
    ChipDescriptor c;
    c.sourceFile = fileName;
    c.sourceText = text;
    Reader r(c, out.diagnostics, fileName);
    r.checkKeys(root, "",
                {"schema", "id", "name", "vendor", "process", "projected_chip", "projection_note", "notes", "board",
                 "chip", "core", "timing_ns", "energy_pj", "static_power_mw", "faults"});
    const std::string schema = r.string(root, "schema", true);
    if (!schema.empty() && schema != "stc.chip/1")
        r.error("schema", "expected \"stc.chip/1\", got \"" + schema + "\"");
    c.id = r.string(root, "id", true);
    c.name = r.string(root, "name", true);
    c.vendor = r.string(root, "vendor", false);
    c.process = r.string(root, "process", false);
    c.projectionNote = r.string(root, "projection_note", false);
    if (auto it = root.find("projected_chip"); it != root.end()) {
        if (!it->is_boolean())
            r.error("projected_chip", "expected true or false, got " + describe(*it));
        else
            c.projectedChip = it->get<bool>();
    }
    if (c.projectedChip && c.projectionNote.empty())
        r.error("projection_note", "a projected chip needs a note saying that its numbers are not public");
    if (auto it = root.find("notes"); it != root.end()) {
        if (!it->is_array())
            r.error("notes", "expected an array of strings");
        else
            for (const auto& n : *it)
                if (n.is_string())
                    c.notes.push_back(n.get<std::string>());
    }

    if (const json* board = r.object(root, "board", "board")) {
        r.checkKeys(*board, "board", {"topology", "chip_grid"});
        const std::string topo = board->value("topology", std::string());
        if (topo == "mesh2d")
            c.topology = BoardTopology::Mesh2D;
        else if (topo == "mesh3d")
            c.topology = BoardTopology::Mesh3D;
        else
            r.error("board.topology", "expected \"mesh2d\" or \"mesh3d\", got " +
                                          (board->contains("topology") ? describe((*board)["topology"]) : "nothing"));
        if (auto g = r.intList(*board, "chip_grid", "board.chip_grid", 3))
            c.chipGrid = {int((*g)[0]), int((*g)[1]), int((*g)[2])};
    }
    if (const json* chip = r.object(root, "chip", "chip")) {
        r.checkKeys(*chip, "chip", {"tile_grid", "cores_per_tile", "cores_per_chip", "embedded_cpus"});
        if (auto g = r.intList(*chip, "tile_grid", "chip.tile_grid", 2)) {
            c.tilesX = int((*g)[0]);
            c.tilesY = int((*g)[1]);
        }
        c.coresPerTile = int(r.integer(*chip, "cores_per_tile", "chip.cores_per_tile", Num::PositiveInt, 1));
        const int64_t perChip = r.integer(*chip, "cores_per_chip", "chip.cores_per_chip", Num::PositiveInt);
        if (perChip > 0 && perChip != c.coresPerChip())
            r.error("chip.cores_per_chip", "is " + std::to_string(perChip) + " but tile_grid x cores_per_tile = " +
                                               std::to_string(c.coresPerChip()));
        if (chip->contains("embedded_cpus"))
            c.embeddedCpus = int(r.integer(*chip, "embedded_cpus", "chip.embedded_cpus", Num::NonNegInt));
    }
    if (const json* core = r.object(root, "core", "core")) {
        r.checkKeys(*core, "core", {"limits", "neuron_models", "synapse_encodings", "layer_ops", "weight_bit_widths",
                                    "input_weight_bit_widths"});
        if (const json* lim = r.object(*core, "limits", "core.limits")) {
            r.checkKeys(*lim, "core.limits",
                        {"neurons", "fan_in_axons", "fan_out_axons", "synaptic_memory_bytes", "core_memory_bytes",
                         "neuron_state_bytes", "weight_bits", "state_bits", "graded_spike_bits", "input_spike_bits",
                         "max_synaptic_delay"});
            const std::string p = "core.limits.";
            CoreLimits& l = c.limits;
            l.neurons = r.integer(*lim, "neurons", p + "neurons", Num::PositiveInt);
            l.fanInAxons = r.integer(*lim, "fan_in_axons", p + "fan_in_axons", Num::PositiveInt);
            l.fanOutAxons = r.integer(*lim, "fan_out_axons", p + "fan_out_axons", Num::PositiveInt);
            l.synapticMemoryBytes = r.integer(*lim, "synaptic_memory_bytes", p + "synaptic_memory_bytes",
                                              Num::PositiveInt);
            l.coreMemoryBytes = r.integer(*lim, "core_memory_bytes", p + "core_memory_bytes", Num::NonNegInt);
            l.neuronStateBytes = r.integer(*lim, "neuron_state_bytes", p + "neuron_state_bytes", Num::NonNegInt);
            l.weightBits = r.integer(*lim, "weight_bits", p + "weight_bits", Num::PositiveInt);
            l.stateBits = r.integer(*lim, "state_bits", p + "state_bits", Num::PositiveInt);
            l.gradedSpikeBits = r.integer(*lim, "graded_spike_bits", p + "graded_spike_bits", Num::PositiveInt, 1);
            if (lim->contains("input_spike_bits"))
                l.inputSpikeBits = r.integer(*lim, "input_spike_bits", p + "input_spike_bits", Num::PositiveInt);
            l.maxSynapticDelay = r.integer(*lim, "max_synaptic_delay", p + "max_synaptic_delay", Num::NonNegInt);
        }
        if (const json* models = r.sourced(*core, "neuron_models", "core.neuron_models")) {
            if (!models->is_array())
                r.error("core.neuron_models", "expected an array of model names, got " + describe(*models));
            else
                for (const auto& m : *models) {
                    if (m.is_string())
                        c.neuronModels.push_back(m.get<std::string>());
                    else
                        r.error("core.neuron_models", "expected model names (strings), got " + describe(m));
                }
        }
        r.readEncodings(*core);
        r.readCapabilities(*core);
    }
    r.readEventCosts(root, "timing_ns", c.latencyNs, true);
    r.readEventCosts(root, "energy_pj", c.energyPj, false);
    c.staticPowerMw = r.real(root, "static_power_mw", "static_power_mw", Num::NonNegReal);
    r.readFaults(root);

    if (!out.diagnostics.hasErrors())
        checkConsistency(c, out.diagnostics, fileName, r.deadCorePaths_, r.deadLinkPaths_);
    if (!out.diagnostics.hasErrors())
        out.chip = std::move(c);
    return out;
}

DescriptorLoad loadChipDescriptor(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        DescriptorLoad out;
        out.diagnostics.error({path, 0, 0}, {}, "cannot open chip descriptor");
        return out;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return parseChipDescriptor(ss.str(), path);
}

namespace {
std::mutex& extraDirsMutex()
{
    static std::mutex m;
    return m;
}
std::vector<std::string>& extraDirs()
{
    static std::vector<std::string> dirs;
    return dirs;
}
} // namespace

std::vector<std::string> chipSearchPath()
{
    std::vector<std::string> dirs;
    if (const char* env = std::getenv("STC_CHIP_PATH"))
        dirs = util::splitPathList(env);
    for (const auto& res : util::resourceDirs())
        dirs.push_back(res + "/chips");
    std::lock_guard lock(extraDirsMutex());
    for (const auto& d : extraDirs())
        dirs.push_back(d);
    return dirs;
}

void addChipSearchDirectory(const std::string& dir)
{
    std::lock_guard lock(extraDirsMutex());
    auto& dirs = extraDirs();
    if (!dir.empty() && std::find(dirs.begin(), dirs.end(), dir) == dirs.end())
        dirs.push_back(dir);
}

DescriptorLoad findChip(const std::string& nameOrPath)
{
    namespace fs = std::filesystem;
    if (nameOrPath.find('/') != std::string::npos || nameOrPath.ends_with(".json"))
        return loadChipDescriptor(nameOrPath);
    for (const auto& dir : chipSearchPath()) {
        const fs::path p = fs::path(dir) / (nameOrPath + ".json");
        std::error_code ec;
        if (fs::exists(p, ec))
            return loadChipDescriptor(p.string());
    }
    DescriptorLoad out;
    std::string known;
    for (const auto& id : availableChipIds())
        known += (known.empty() ? "" : ", ") + id;
    out.diagnostics.error({}, {}, "unknown chip '" + nameOrPath + "' (available: " + (known.empty() ? "none" : known) +
                                      "; searched $STC_CHIP_PATH, <resources>/chips and backend plugins' descriptor directories, resources from $STC_RESOURCE_DIR, "
                                      "<exe>/../share/stc or the source tree)");
    return out;
}

std::vector<std::string> availableChipIds()
{
    namespace fs = std::filesystem;
    std::set<std::string> ids;
    for (const auto& dir : chipSearchPath()) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(dir, ec))
            if (e.path().extension() == ".json")
                ids.insert(e.path().stem().string());
    }
    return {ids.begin(), ids.end()};
}

} // namespace stc::target
