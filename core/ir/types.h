// Spike IR value types: element type, per-sample shape and time semantics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stc::ir {

// Element types. `Spike` is binary (0/1); `Graded` is a small signed integer
// (e.g. the sum of several spike tensors, or a spike-count matmul result).
enum class ElemType : uint8_t { F32, I8, I16, I32, Spike, Graded };

std::string_view toString(ElemType t);
std::optional<ElemType> elemTypeFromString(std::string_view s);
bool isIntegerLike(ElemType t);  // Spike, Graded and the integer types
int64_t elemByteSize(ElemType t); // storage size of one element in a constant tensor

// A per-step value exists once per time step (T of them); an invariant value
// exists once per inference (inputs, weights, results of a mean over time).
enum class TimeKind : uint8_t { PerStep, Invariant };

using Shape = std::vector<int64_t>;

std::string shapeToString(const Shape& s); // "32,28,28" (empty for a scalar)
int64_t numElements(const Shape& s);

// Shapes are per sample: the batch dimension never appears in the IR.
// Text form: `f32[32,28,28]` (invariant) or `spike[T,32,28,28]` (per step).
struct Type {
    ElemType elem = ElemType::F32;
    Shape shape;
    TimeKind time = TimeKind::Invariant;

    bool perStep() const { return time == TimeKind::PerStep; }
    int64_t rank() const { return static_cast<int64_t>(shape.size()); }
    int64_t numElements() const { return ir::numElements(shape); }
    friend bool operator==(const Type&, const Type&) = default;
};

std::string toString(const Type& t);

} // namespace stc::ir
