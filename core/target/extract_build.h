// Internal to network extraction: turns traced expressions into populations
// and projections (choosing the analytic Full/Diag form where the views
// allow it, explicit synapse lists otherwise), then assigns rates and the
// pipelined schedule.
#pragma once

#include "target/extract_expr.h"
#include "target/network_extract.h"

namespace stc::target::detail {

class NetworkBuilder {
public:
    explicit NetworkBuilder(Network& net) : net_(net) {}

    int32_t addPopulation(Population p);
    // A population fed by expression `e` (its shape becomes p.shape). Its
    // feature axis follows the first full weight op feeding it, else
    // `preferredAxis` (the axis a consumer treats as features), else 0.
    int32_t materialize(const Expr& e, Population p, int preferredAxis = -1);
    // One synapse of weight `w` per dst neuron from srcOfDst[dst neuron] (-1 = none).
    // Built in compactExplicit's form (one shared weight; rowStart only when
    // some dst neuron has none).
    void addGather(int32_t src, int32_t dst, std::vector<int32_t> srcOfDst, float w, const std::string& name,
                   const std::string& origin, int32_t op);
    // The same projection, built without touching the network (any thread).
    static Projection gather(int32_t src, int32_t dst, std::vector<int32_t> srcOfDst, float w,
                             const std::string& name, const std::string& origin, int32_t op);
    // Appends a projection built by gather().
    void addProjection(Projection pr) { net_.projections.push_back(std::move(pr)); }
    // Terms of a delay back edge (Term::backEdge) wait until the population of
    // the value they read exists: takeDeferred(v) hands back those reading v
    // (with their dst population), addDeferred adds one once its pop is set.
    std::vector<std::pair<Term, int32_t>> takeDeferred(ir::ValueId v);
    void addDeferred(const Term& t, int32_t dst) { addTerm(t, dst); }
    const std::vector<std::pair<Term, int32_t>>& deferred() const { return deferred_; }

private:
    int32_t finishMaterialize(const Expr& e, int32_t dst);
    void addTerm(const Term& t, int32_t dst);
    void addTermNow(const Term& t, int32_t dst);
    void addExplicit(const Term& t, int32_t dst, Projection pr);
    Network& net_;
    // A population's feature axis is locked once a full projection depends on
    // it; until then a full consumer may choose it.
    std::vector<char> locked_;
    std::vector<std::pair<Term, int32_t>> deferred_;
};

// Rates (measured or estimated), phases, delays; chip checks on the result.
void finishNetwork(Network& net, const ir::Module& m, const ChipDescriptor* chip, const ExtractOptions& opt,
                   Diagnostics& diags);

} // namespace stc::target::detail
