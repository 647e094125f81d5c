// The Spike IR op set: names, attribute schemas and type inference.
#pragma once

#include "ir/attributes.h"
#include "ir/types.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stc::ir {

enum class OpKind : uint8_t {
    Input,     // model input (time-invariant)
    Const,     // constant tensor (weights, biases, statistics)
    Encode,    // invariant -> per-step: direct (repeat over T) or rate (Bernoulli) encoding
    Conv1d,    // x[C,L], w[O,C/g,K], b[O]?
    Conv2d,    // x[C,H,W], w[O,C/g,KH,KW], b[O]?
    Linear,    // x[...,I], w[O,I], b[O]? -> [...,O]
    BatchNorm, // x, mean, var, gamma, beta (channel axis `axis`, default 0)
    Lif,       // spiking neuron with state over time (LIF, IF, snnTorch Leaky)
    Add,       // elementwise with numpy broadcasting
    Mul,       // elementwise with numpy broadcasting
    Scale,     // x * factor (scalar)
    MatMul,    // batched matrix product with broadcasting over leading dims
    MaxPool2d,
    AvgPool2d,
    Flatten,   // {start, end} over per-sample dims
    Reshape,   // {shape}
    Permute,   // {perm}
    Mean,      // {axes, over_time}
    Sum,       // {axes, keepdim}
    Delay,     // {steps = k}: y[t] = x[t-k], 0 for t < k; the only op whose operand may be defined later (a back edge)
    Custom,    // defined by a custom-op plugin, written by its registered name (ir/custom_op.h)
    Output,    // module results (no result value)
};

constexpr int kOpKindCount = static_cast<int>(OpKind::Output) + 1;

std::string_view opName(OpKind k);
std::optional<OpKind> opKindFromName(std::string_view name);

struct AttrSpec {
    std::string name;
    AttrKind kind;
    bool required;
    std::string doc;
};

// What the verifier and the text parser know about an op kind.
struct OpDef {
    OpKind kind;
    std::string_view name;
    int minOperands;
    int maxOperands; // -1 = variadic
    bool hasResult;
    std::vector<AttrSpec> attrs;
    std::string_view doc;
};

const OpDef& opDef(OpKind k);
const std::vector<OpDef>& allOpDefs();

// Result type inference: from operand types and attributes, the result type,
// or an error message saying what was expected. Const and Input carry their
// type explicitly and are not inferred here; nor are custom ops (their
// definition infers them: inferOpType in module.h).
struct InferResult {
    std::optional<Type> type;
    std::string error;
    static InferResult ok(Type t) { return {std::move(t), {}}; }
    static InferResult fail(std::string e) { return {std::nullopt, std::move(e)}; }
};

InferResult inferType(OpKind kind, const std::vector<Type>& operands, const Attributes& attrs);

// Extra attribute checks beyond kind/presence (value ranges, enum strings,
// neuron-model-specific required attributes). Returns an empty string if fine.
std::string checkAttributes(OpKind kind, const Attributes& attrs);

} // namespace stc::ir
