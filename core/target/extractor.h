// Internal to network extraction: the tracer class shared by
// network_extract.cpp (expressions, neurons, relays) and extract_ops.cpp
// (weight ops, pooling, products, readouts).
#pragma once

#include "fixedpoint/qmodel.h"
#include "target/extract_build.h"
#include "target/extract_expr.h"
#include "target/network_extract.h"

#include <numeric>
#include <unordered_map>
#include <unordered_set>

namespace stc::target::detail {

inline std::vector<int32_t> iota32(int64_t n)
{
    std::vector<int32_t> v(static_cast<size_t>(std::max<int64_t>(n, 0)));
    std::iota(v.begin(), v.end(), 0);
    return v;
}

class Extractor {
public:
    Extractor(const ir::Module& m, const ChipDescriptor* chip, const ExtractOptions& opt, ExtractResult& out)
        : m_(m), chip_(chip), opt_(opt), net_(out.network), diags_(out.diagnostics), builder_(out.network)
    {
    }

    void run();

private:
    std::string opLabel(const ir::Op& op) const;

    Expr fail(const ir::Op& op, const std::string& msg);

    bool isFailed(ir::ValueId v) const { return failed_.count(v) != 0; }

    const ir::Tensor* constant(ir::ValueId v) const;

    Expr exprOf(ir::ValueId v);

    Expr popExpr(int32_t pop, const ir::Shape& shape) const;

    int gradedBits() const;

    Population proto(PopulationKind kind, const std::string& name, const ir::Op& op, int32_t opIndex) const;

    int32_t opIndexOf(const ir::Op& op) const { return int32_t(&op - m_.ops().data()); }

    Expr compute(const ir::Op& op);

    Expr materializeChecked(const ir::Op& op, const Expr& in, Population p, int featureAxis = -1);

    Expr relay(const ir::Op& op, const Expr& in, const std::string& name, int spikeBits, int featureAxis = -1);

    Expr batchNorm(const ir::Op& op);

    bool relaySumsWanted(const Expr& x) const;
    void perInference(Expr& e) const; // integer time average: bias once per inference

    // Applies a weight op to x, materializing x first when a term already has
    // a weight op, carries a per-element factor the op cannot absorb, or is a
    // residual sum the options want relayed.
    Expr applyWeights(const ir::Op& op, ir::ValueId xv, Expr x, OpGeom g, const std::vector<double>& opBias);

    // Folds a sum/mean over whole axes (Diag, reduce-only) followed by a
    // full weight op with identity stencils into one full op (the readout
    // head: mean over tokens then linear).
    bool compose(const Term& t, const OpGeom& g, Term& out) const;

    // A delay op: the operand's expression with every term delayed; a back
    // edge (operand defined later) is a term waiting for that value's
    // population (resolveBackEdges once the value is computed).
    Expr delayed(const ir::Op& op);
    void resolveBackEdges(ir::ValueId v); // adds the waiting terms that read v
    // A CubaLIF (current stage lif -> membrane lif) on a recurrent loop becomes
    // one CUBA population when that is exact (extract_loops.cpp).
    void planCubaFusion();
    std::unordered_map<int32_t, int32_t> fusedCurrent_;                 // membrane lif op -> its current stage op
    std::unordered_set<int32_t> fusedAway_;                             // current stages fused into their membrane
    std::unordered_map<int32_t, fixedpoint::NeuronParams> fusedParams_; // membrane lif op -> the CUBA parameters

    Expr weightOp(const ir::Op& op);
    Expr maxPool(const ir::Op& op);
    Expr product(const ir::Op& op, const Expr& a, const Expr& b, bool matmul);
    // A population and element index standing for `e` (a relay when needed);
    // the scalar factor peeled off is returned in `scalar`.
    int32_t operandPopulation(const ir::Op& op, ir::ValueId v, Expr e, std::vector<int32_t>& index, double& scalar);
    void addReadout(ir::ValueId v, const ir::Op& outputOp);

    const ir::Module& m_;
    const ChipDescriptor* chip_;
    const ExtractOptions& opt_;
    Network& net_;
    Diagnostics& diags_;
    NetworkBuilder builder_;
    std::unordered_map<ir::ValueId, Expr> exprs_;
    std::unordered_set<ir::ValueId> failed_;
    std::unordered_map<ir::ValueId, int32_t> backEdgeOp_; // value read by a back-edge delay -> that delay op
    // Quantized module: integer semantics of the fixed-point reference path
    // (fixedpoint/qmodel.h). Weights are the mantissas << q.shift, biases the
    // i32 constants, `scale` ops and 1/count of means only change the static
    // scale, adds align their operands by powers of two.
    bool integer_ = false;
    fixedpoint::Analysis q_;
    std::string integerWeights(const ir::Op& op, const ir::Tensor& w, std::vector<float>& weights,
                               std::vector<double>& bias) const;
};

} // namespace stc::target::detail
