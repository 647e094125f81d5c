// prune: magnitude (unstructured, per layer), channel (structured: whole
// output channels, weights and bias, lowest L1 norm first) or head (attention
// heads: the q/k/v output channels of a head, lowest summed L1 norm first, per
// attention block). Weights are zeroed in place (shapes stay, so the mapping
// can drop zero synapses and silent neurons). Reports achieved sparsity over
// the prunable weights and the synaptic memory saved at the given weight
// bit width (zeroed synapses x bits / 8).
#include "passes/builtin_passes.h"
#include "passes/rewrite.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <set>

namespace stc::passes {

namespace {

using ir::OpKind;

bool isLayer(OpKind k) { return k == OpKind::Conv1d || k == OpKind::Conv2d || k == OpKind::Linear; }

struct Layer {
    int32_t op;       // conv/linear op
    int32_t weightOp; // its weight's const op
    int32_t biasOp = -1;
};

class Pruner {
public:
    Pruner(ir::Module& m, PassRun& run) : m_(m), run_(run) {}

    std::vector<Layer> layers(bool skipFloatInput)
    {
        std::vector<Layer> out;
        std::set<int32_t> seen;
        for (int32_t i = 0; i < static_cast<int32_t>(m_.ops().size()); ++i) {
            const ir::Op& op = m_.ops()[size_t(i)];
            if (!isLayer(op.kind) || !constantOf(m_, op.operands[1]))
                continue;
            if (skipFloatInput && m_.typeOf(op.operands[0]).elem == ir::ElemType::F32)
                continue;
            const int32_t w = m_.value(op.operands[1]).def;
            if (!seen.insert(w).second)
                continue; // shared weights: pruned once
            Layer l{i, w};
            if (op.operands.size() > 2 && constantOf(m_, op.operands[2]))
                l.biasOp = m_.value(op.operands[2]).def;
            out.push_back(l);
        }
        return out;
    }

    const ir::Tensor& tensor(int32_t constOp) const { return *m_.ops()[size_t(constOp)].constant; }

    // Zeroes the listed elements of a constant (any element type: zero bits = 0).
    void zero(int32_t constOp, const std::vector<int64_t>& elems)
    {
        if (elems.empty())
            return;
        ir::Tensor t = tensor(constOp);
        const int64_t es = ir::elemByteSize(t.elem());
        auto bytes = t.mutableBytes();
        for (int64_t e : elems)
            std::fill_n(bytes.begin() + e * es, es, uint8_t{0});
        m_.mutableOps()[size_t(constOp)].constant = std::make_shared<const ir::Tensor>(std::move(t));
    }

    void zeroRows(const Layer& l, const std::vector<int64_t>& rows)
    {
        const ir::Tensor& w = tensor(l.weightOp);
        const int64_t per = w.numElements() / w.shape()[0];
        std::vector<int64_t> elems;
        for (int64_t r : rows)
            for (int64_t k = 0; k < per; ++k)
                elems.push_back(r * per + k);
        zero(l.weightOp, elems);
        if (l.biasOp >= 0)
            zero(l.biasOp, rows);
    }

    std::vector<double> rowNorms(const Layer& l) const
    {
        const ir::Tensor& w = tensor(l.weightOp);
        const int64_t rows = w.shape()[0], per = w.numElements() / rows;
        std::vector<double> n(static_cast<size_t>(rows), 0.0);
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t k = 0; k < per; ++k)
                n[size_t(r)] += std::fabs(w.at(r * per + k));
        return n;
    }

    void magnitude(const std::vector<Layer>& ls, double sparsity)
    {
        for (size_t li = 0; li < ls.size(); ++li) {
            run_.checkCancelled();
            const ir::Tensor& w = tensor(ls[li].weightOp);
            const int64_t n = w.numElements();
            std::vector<int64_t> idx(static_cast<size_t>(n));
            std::iota(idx.begin(), idx.end(), 0);
            const auto target = static_cast<int64_t>(std::llround(sparsity * double(n)));
            std::vector<double> mag(static_cast<size_t>(n));
            int64_t zeros = 0;
            for (int64_t i = 0; i < n; ++i) {
                mag[size_t(i)] = std::fabs(w.at(i));
                zeros += mag[size_t(i)] == 0.0;
            }
            if (target <= zeros)
                continue;
            std::nth_element(idx.begin(), idx.begin() + target, idx.end(), [&](int64_t a, int64_t b) {
                return mag[size_t(a)] != mag[size_t(b)] ? mag[size_t(a)] < mag[size_t(b)] : a < b;
            });
            idx.resize(size_t(target));
            zero(ls[li].weightOp, idx);
            run_.progress(double(li + 1) / double(ls.size()));
        }
    }

    void channels(const std::vector<Layer>& ls, double sparsity)
    {
        int64_t pruned = 0;
        for (const Layer& l : ls) {
            const std::vector<double> norms = rowNorms(l);
            const auto k = static_cast<int64_t>(std::llround(sparsity * double(norms.size())));
            std::vector<int64_t> order(norms.size());
            std::iota(order.begin(), order.end(), 0);
            std::stable_sort(order.begin(), order.end(),
                             [&](int64_t a, int64_t b) { return norms[size_t(a)] < norms[size_t(b)]; });
            order.resize(size_t(k));
            zeroRows(l, order);
            pruned += k;
        }
        run_.stats().set("channels-pruned", pruned);
    }

    void heads(const std::vector<Layer>& ls, double sparsity);

private:
    // Producer layer of a matmul operand: back through views/scale to a lif,
    // then back through views to a conv/linear. -1 if the path is different.
    int32_t producerOf(ir::ValueId v, int32_t* matmulSource) const
    {
        bool passedLif = false;
        while (true) {
            const int32_t d = m_.value(v).def;
            const ir::Op& op = m_.ops()[size_t(d)];
            if (isViewOp(op.kind) || (op.kind == OpKind::Scale && !passedLif)) {
                v = op.operands[0];
            } else if (op.kind == OpKind::Lif && !passedLif) {
                passedLif = true;
                v = op.operands[0];
            } else if (op.kind == OpKind::MatMul && !passedLif) {
                *matmulSource = d;
                return -1;
            } else if (isLayer(op.kind) && passedLif) {
                return d;
            } else {
                return -1;
            }
        }
    }

    ir::Module& m_;
    PassRun& run_;
};

void Pruner::heads(const std::vector<Layer>& ls, double sparsity)
{
    std::map<int32_t, const Layer*> byOp;
    for (const Layer& l : ls)
        byOp[l.op] = &l;
    // Union-find over matmul ops: matmuls feeding each other form one attention.
    std::map<int32_t, int32_t> parent;
    auto find = [&](int32_t x) {
        while (parent[x] != x)
            x = parent[x] = parent[parent[x]];
        return x;
    };
    std::map<int32_t, int64_t> headsOf;
    std::map<int32_t, std::set<int32_t>> producersOf;
    for (int32_t i = 0; i < static_cast<int32_t>(m_.ops().size()); ++i)
        if (m_.ops()[size_t(i)].kind == OpKind::MatMul)
            parent[i] = i;
    for (auto& [i, p] : parent) {
        const ir::Op& op = m_.ops()[size_t(i)];
        const ir::Shape& s = m_.typeOf(op.result).shape;
        headsOf[i] = ir::numElements(ir::Shape(s.begin(), s.end() - 2));
        for (ir::ValueId v : op.operands) {
            int32_t source = -1;
            const int32_t prod = producerOf(v, &source);
            if (prod >= 0)
                producersOf[i].insert(prod);
            if (source >= 0)
                parent[find(i)] = find(source);
        }
    }
    std::map<int32_t, std::set<int32_t>> clusterProducers;
    std::map<int32_t, int64_t> clusterHeads;
    for (auto& [i, p] : parent) {
        const int32_t root = find(i);
        clusterProducers[root].insert(producersOf[i].begin(), producersOf[i].end());
        clusterHeads[root] = std::max(clusterHeads[root], headsOf[i]);
    }
    int64_t pruned = 0, total = 0;
    for (const auto& [root, prods] : clusterProducers) {
        const int64_t h = clusterHeads[root];
        std::vector<const Layer*> layers;
        bool ok = h > 1 && !prods.empty();
        for (int32_t p : prods) {
            auto it = byOp.find(p);
            if (it == byOp.end() || tensor(it->second->weightOp).shape()[0] % h) {
                ok = false;
                break;
            }
            layers.push_back(it->second);
        }
        if (!ok) {
            run_.warning("attention at %" + m_.value(m_.ops()[size_t(root)].result).name +
                         ": heads or q/k/v producers not recognised; not pruned");
            continue;
        }
        std::vector<double> score(static_cast<size_t>(h), 0.0);
        for (const Layer* l : layers) {
            const auto norms = rowNorms(*l);
            const int64_t d = int64_t(norms.size()) / h;
            for (size_t r = 0; r < norms.size(); ++r)
                score[size_t(int64_t(r) / d)] += norms[r];
        }
        const auto k = static_cast<int64_t>(std::llround(sparsity * double(h)));
        std::vector<int64_t> order(static_cast<size_t>(h));
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](int64_t a, int64_t b) { return score[size_t(a)] < score[size_t(b)]; });
        for (const Layer* l : layers) {
            const int64_t d = tensor(l->weightOp).shape()[0] / h;
            std::vector<int64_t> rows;
            for (int64_t j = 0; j < k; ++j)
                for (int64_t r = 0; r < d; ++r)
                    rows.push_back(order[size_t(j)] * d + r);
            zeroRows(*l, rows);
        }
        pruned += k;
        total += h;
    }
    run_.stats().set("attention-blocks", int64_t(clusterProducers.size()));
    run_.stats().set("heads-total", total);
    run_.stats().set("heads-pruned", pruned);
}

int64_t countZeros(const ir::Tensor& t)
{
    int64_t z = 0;
    for (int64_t i = 0; i < t.numElements(); ++i)
        z += t.at(i) == 0.0;
    return z;
}

void runPrune(ir::Module& m, PassRun& run)
{
    const double sparsity = run.options().getFloat("sparsity");
    const std::string mode = run.options().getString("mode");
    const int64_t bits = run.options().getInt("weight-bits");
    Pruner p(m, run);
    const std::vector<Layer> ls = p.layers(run.options().getBool("skip-float-input"));
    int64_t total = 0, zerosBefore = 0;
    for (const Layer& l : ls) {
        total += p.tensor(l.weightOp).numElements();
        zerosBefore += countZeros(p.tensor(l.weightOp));
    }
    if (mode == "magnitude")
        p.magnitude(ls, sparsity);
    else if (mode == "channel")
        p.channels(ls, sparsity);
    else
        p.heads(ls, sparsity);
    int64_t zerosAfter = 0;
    for (const Layer& l : ls)
        zerosAfter += countZeros(p.tensor(l.weightOp));
    const int64_t zeroed = zerosAfter - zerosBefore;
    run.stats().set("layers", int64_t(ls.size()));
    run.stats().set("weights-total", total);
    run.stats().set("weights-zeroed", zeroed);
    run.stats().set("sparsity-achieved", total ? double(zerosAfter) / double(total) : 0.0);
    run.stats().set("synaptic-bytes-before", ((total - zerosBefore) * bits + 7) / 8);
    run.stats().set("synaptic-bytes-saved", (zeroed * bits + 7) / 8);
    if (ls.empty())
        run.warning("no prunable layer (conv/linear with constant weights and spiking input)");
}

} // namespace

PassDef makePrunePass()
{
    PassInfo info;
    info.name = "prune";
    info.description = "zero weights: magnitude (unstructured), channel or attention-head (structured)";
    info.options = {
        OptionSpec::real("sparsity", 0.5, 0.0, 0.99, "fraction of weights (magnitude), channels or heads to remove"),
        OptionSpec::enumeration("mode", "magnitude", {"magnitude", "channel", "head"},
                                "magnitude: smallest |w| per layer; channel: lowest-L1 output channels per layer; "
                                "head: lowest-L1 attention heads per block"),
        OptionSpec::integer("weight-bits", 8, 1, 32, "bits per synaptic weight, for the memory estimate"),
        OptionSpec::boolean("skip-float-input", true,
                            "leave layers with non-spike input alone (the pixel layer and the classifier head)"),
    };
    return {std::move(info), runPrune};
}

} // namespace stc::passes
