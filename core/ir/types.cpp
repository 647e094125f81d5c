#include "ir/types.h"

#include <array>

namespace stc::ir {

namespace {
constexpr std::array<std::string_view, 6> kElemNames = {"f32", "i8", "i16", "i32", "spike", "graded"};
}

std::string_view toString(ElemType t)
{
    const auto i = static_cast<size_t>(t);
    return i < kElemNames.size() ? kElemNames[i] : std::string_view("<bad elem>");
}

std::optional<ElemType> elemTypeFromString(std::string_view s)
{
    for (size_t i = 0; i < kElemNames.size(); ++i)
        if (kElemNames[i] == s)
            return static_cast<ElemType>(i);
    return std::nullopt;
}

bool isIntegerLike(ElemType t) { return t != ElemType::F32; }

int64_t elemByteSize(ElemType t)
{
    switch (t) {
    case ElemType::F32: return 4;
    case ElemType::I8: return 1;
    case ElemType::I16: return 2;
    case ElemType::I32: return 4;
    case ElemType::Spike: return 1;
    case ElemType::Graded: return 1;
    }
    return 4;
}

std::string shapeToString(const Shape& s)
{
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (i)
            out += ',';
        out += std::to_string(s[i]);
    }
    return out;
}

int64_t numElements(const Shape& s)
{
    int64_t n = 1;
    for (int64_t d : s)
        n *= d;
    return n;
}

std::string toString(const Type& t)
{
    std::string out(toString(t.elem));
    out += '[';
    if (t.perStep())
        out += t.shape.empty() ? "T" : "T,";
    out += shapeToString(t.shape);
    out += ']';
    return out;
}

} // namespace stc::ir
