// Helpers shared by the Spike IR text, verifier and fuzz tests: test data
// files, `// expect:` lines of bad-input files, and random modules whose
// weights include every awkward float (-0.0, denormals, NaN payloads, inf).
#pragma once

#include "ir/ir_io.h"
#include "ir/module.h"

#include <QDir>
#include <QString>
#include <QStringList>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace stc::irtest {

inline QString irDataDir() { return QStringLiteral(STC_TEST_DATA_DIR "/ir"); }

inline std::string readIrFile(const QString& name)
{
    std::string text, error;
    ir::readTextFile((irDataDir() + "/" + name).toStdString(), text, error);
    return text;
}

// Golden files: *.sir not starting with bad_. Bad-input files: bad_*.sir.
inline QStringList irFiles(bool bad)
{
    QStringList out;
    for (const QString& f : QDir(irDataDir()).entryList({"*.sir"}, QDir::Files, QDir::Name))
        if (f.startsWith("bad_") == bad)
            out << f;
    return out;
}

// Golden files may carry whole-line `//` comments (the parser drops them);
// the canonical text is the file without those lines.
inline std::string stripCommentLines(const std::string& text)
{
    std::string out;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        end = end == std::string::npos ? text.size() : end + 1;
        const std::string_view line(text.data() + pos, end - pos);
        const size_t first = line.find_first_not_of(" \t");
        if (first == std::string_view::npos || line.substr(first, 2) != "//")
            out.append(line);
        pos = end;
    }
    return out;
}

// `// expect: LINE:COL: message substring` lines of a bad-input file.
struct Expectation {
    int line = 0;
    int col = 0;
    std::string message;
};

inline std::vector<Expectation> parseExpectations(const std::string& text)
{
    std::vector<Expectation> out;
    const std::string tag = "// expect: ";
    for (size_t pos = text.find(tag); pos != std::string::npos; pos = text.find(tag, pos + 1)) {
        const size_t end = text.find('\n', pos);
        const std::string body = text.substr(pos + tag.size(), end == std::string::npos ? end : end - pos - tag.size());
        Expectation e;
        const size_t c1 = body.find(':'), c2 = body.find(':', c1 + 1);
        e.line = std::stoi(body.substr(0, c1));
        e.col = std::stoi(body.substr(c1 + 1, c2 - c1 - 1));
        e.message = body.substr(c2 + 2);
        out.push_back(e);
    }
    return out;
}

// splitmix64: deterministic on every platform (std distributions are not).
struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed) {}
    uint64_t next()
    {
        uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    int64_t range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(next() % uint64_t(hi - lo + 1)); }
    double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
    bool chance(double p) { return uniform() < p; }
};

inline float bitsToFloat(uint32_t bits)
{
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

// Mostly ordinary weights, with -0.0, denormals, NaNs with random payloads
// and signs, infinities, extremes and arbitrary bit patterns mixed in.
inline float awkwardFloat(Rng& rng)
{
    const uint32_t sign = rng.chance(0.5) ? 0x80000000u : 0u;
    switch (rng.range(0, 9)) {
    case 0: return -0.0f;
    case 1: return bitsToFloat(sign | static_cast<uint32_t>(rng.range(1, 0x7fffff)));              // denormal
    case 2: return bitsToFloat(sign | 0x7f800000u | static_cast<uint32_t>(rng.range(1, 0x7fffff))); // NaN payload
    case 3: return sign ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
    case 4: return sign ? std::numeric_limits<float>::lowest() : std::numeric_limits<float>::min();
    case 5: return bitsToFloat(static_cast<uint32_t>(rng.next()));
    default: return static_cast<float>((rng.uniform() * 2.0 - 1.0) * 0.5);
    }
}

inline std::string randomString(Rng& rng)
{
    static const std::vector<std::string> pieces = {"blocks", ".", "0", "attn", "\"", "\\", "\n", "\t", "\r",
                                                    "\x01", "\x7f", "\xc2\xb5", " ", "q_lif", "{", "}", "//"};
    std::string s;
    for (int64_t i = rng.range(0, 6); i > 0; --i)
        s += pieces[size_t(rng.range(0, int64_t(pieces.size()) - 1))];
    return s;
}

inline ir::Tensor randomTensor(Rng& rng, ir::ElemType elem, ir::Shape shape, bool awkward = true)
{
    ir::Tensor t(elem, std::move(shape));
    auto bytes = t.mutableBytes();
    if (elem == ir::ElemType::F32) {
        for (int64_t i = 0; i < t.numElements(); ++i) {
            const float f = awkward && rng.chance(0.3) ? awkwardFloat(rng)
                                                      : static_cast<float>((rng.uniform() * 2.0 - 1.0) * 0.5);
            std::memcpy(bytes.data() + 4 * i, &f, 4);
        }
    } else if (elem == ir::ElemType::Spike) {
        for (auto& b : bytes)
            b = rng.chance(0.3) ? 1 : 0;
    } else {
        for (auto& b : bytes)
            b = static_cast<uint8_t>(rng.next());
    }
    return t;
}

// A module that verifies: input -> encode -> conv2d -> lif -> flatten ->
// linear -> mean over time, plus constants of every element type and sizes
// on both sides of the inline/base64 threshold. Everything is an output.
inline ir::Module randomModule(uint64_t seed)
{
    using namespace stc::ir;
    Rng rng(seed);
    Module m;
    static const std::vector<std::string> moduleNames = {"net", "spikformer_fmnist", "a.b$c", "my model-v2", "0"};
    m.name = moduleNames[size_t(rng.range(0, int64_t(moduleNames.size()) - 1))];
    m.timesteps = rng.range(1, 8);
    if (rng.chance(0.7))
        m.attrs.set("source", randomString(rng) + ".pt");
    if (rng.chance(0.5))
        m.attrs.set("input_range", FloatList{0.0, rng.uniform()});
    if (rng.chance(0.5))
        m.attrs.set("_empty", rng.chance(0.5) ? AttrValue(IntList{}) : AttrValue(FloatList{}));
    auto name = [&](const std::string& base) {
        return rng.chance(0.3) ? std::string() : base + (rng.chance(0.3) ? "$" : ".") + std::to_string(m.values().size());
    };
    auto must = [](ValueId v, const std::string& err) {
        if (v == kNoValue)
            throw std::runtime_error("randomModule: " + err);
        return v;
    };
    std::string err;
    std::vector<ValueId> outputs;

    const int64_t c = rng.range(1, 3), h = rng.range(3, 9), w = rng.range(3, 9), k = rng.range(1, 3);
    const int64_t o = rng.range(1, 20);
    const ValueId x = m.addInput({ElemType::F32, {c, h, w}, TimeKind::Invariant}, name("x"));
    Attributes enc;
    enc.set("mode", std::string("direct"));
    const ValueId xs = must(m.build(OpKind::Encode, {x}, enc, randomString(rng), name("enc"), &err), err);
    const ValueId cw = m.addConst(randomTensor(rng, ElemType::F32, {o, c, k, k}), name("conv.weight"), randomString(rng));
    std::vector<ValueId> convIn = {xs, cw};
    if (rng.chance(0.5))
        convIn.push_back(m.addConst(randomTensor(rng, ElemType::F32, {o}), name("conv.bias")));
    Attributes conv;
    conv.set("padding", IntList{k / 2, k / 2});
    if (rng.chance(0.5))
        conv.set("stride", IntList{1, 1});
    conv.set("_score", rng.uniform() * 1e300);
    const ValueId y = must(m.build(OpKind::Conv2d, convIn, conv, randomString(rng), name("conv"), &err), err);
    Attributes lif;
    lif.set("tau", 1.0 + rng.uniform() * 4.0);
    lif.set("decay_input", rng.chance(0.5));
    lif.set("v_threshold", rng.chance(0.5) ? 1.0 : rng.uniform());
    lif.set("reset", std::string(rng.chance(0.5) ? "hard" : "subtract"));
    if (rng.chance(0.5))
        lif.set("v_reset", -0.0);
    const ValueId s = must(m.build(OpKind::Lif, {y}, lif, randomString(rng), name("lif"), &err), err);
    const ValueId f = must(m.build(OpKind::Flatten, {s}, {}, {}, name("flat"), &err), err);
    const int64_t features = m.typeOf(f).shape.back(), classes = rng.range(1, 12);
    const ValueId lw = m.addConst(randomTensor(rng, ElemType::F32, {classes, features}), name("fc.weight"), "fc");
    const ValueId logits = must(m.build(OpKind::Linear, {f, lw}, {}, "fc", name("fc"), &err), err);
    Attributes mean;
    mean.set("over_time", true);
    outputs.push_back(must(m.build(OpKind::Mean, {logits}, mean, "readout", name("logits"), &err), err));

    const ElemType elems[] = {ElemType::F32, ElemType::I8, ElemType::I16, ElemType::I32, ElemType::Spike,
                              ElemType::Graded};
    for (ElemType e : elems) {
        const int64_t n = rng.chance(0.5) ? rng.range(0, 16) : rng.range(17, 70);
        Shape shape = rng.chance(0.2) ? Shape{} : Shape{n};
        outputs.push_back(m.addConst(randomTensor(rng, e, shape), name("c"), randomString(rng)));
    }
    m.addOutput(outputs);
    return m;
}

} // namespace stc::irtest
