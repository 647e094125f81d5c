// Axis roles of recorded tensors. A recorded tensor such as [T, B, C, N] is
// one Spike IR value of per-sample shape [C, N] (per step); its layout says
// which recorded axis is time, batch, time*batch merged (the flatten(0,1)
// dance), a size-1 axis without a role yet, or which IR feature axis.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stc::torchscript {

enum class Role : uint8_t { Time, Batch, TimeBatch, Unit, Feature };

struct Axis {
    Role role = Role::Feature;
    int feature = -1; // Feature: index of the IR axis
    friend bool operator==(const Axis&, const Axis&) = default;
};
using Layout = std::vector<Axis>;

// Sizes needed to interpret a layout.
struct AxisSizes {
    int64_t T = 1;
    int64_t B = 1;
};

std::string toString(const Layout& l);
bool hasTime(const Layout& l);                  // Time or TimeBatch present
int findRole(const Layout& l, Role r);          // index or -1
int featureCount(const Layout& l);
bool featuresInOrder(const Layout& l);          // feature indices 0..n-1 in order
// Renumbers features 0..n-1 in order of appearance; returns the old index of
// each new feature (an IR permutation when it is not the identity).
std::vector<int64_t> renumberFeatures(Layout& l);
// The layout of an input/invariant tensor [B, f0, f1, ...].
Layout batchMajor(size_t rank);

struct ReshapePlan {
    Layout out;
    std::vector<int64_t> featureShape; // IR shape after the reshape
    std::string error;                 // non-empty: not expressible
};
// Reshape of a recorded tensor with layout `in` (recorded shape `inShape`) to
// `outShape`: time/batch axes may merge (T,B -> TB) or split, feature groups
// may be reshaped among themselves; mixing batch/time with features is refused.
ReshapePlan planReshape(const Layout& in, const std::vector<int64_t>& inShape, const std::vector<int64_t>& outShape,
                        AxisSizes sizes);

struct BroadcastPlan {
    Layout out;
    std::vector<int64_t> outShape;                   // recorded shape of the result
    std::vector<std::vector<int64_t>> operandShapes; // each operand's IR shape aligned to the result features
    std::string error;
};
// Elementwise broadcasting of recorded tensors. A null layout stands for a
// static operand (its size-1 or full axes are handled by the caller).
BroadcastPlan planBroadcast(const std::vector<const Layout*>& layouts,
                            const std::vector<std::vector<int64_t>>& shapes);

} // namespace stc::torchscript
