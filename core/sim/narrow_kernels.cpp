// ConvPlan::Group::narrow: conv_shared kernels as int8 mantissas and a left
// shift per feature, the form core-major delivery reads (conv_tiles.h).
#include "sim/program.h"

#include <bit>
#include <unordered_map>

namespace stc::sim {

namespace {
struct Narrow {
    SharedArray<int8_t> narrow;
    SharedArray<uint32_t> shift;
};

// Kernel w of rows of n features as narrow[r][j] << shift[j], if every
// column has that form: its shift is the fewest trailing zero bits of its
// weights (the OR of the column), and every weight shifted back must fit
// int8. Nothing (empty arrays) otherwise.
Narrow narrowForm(const std::vector<int32_t>& w, size_t n)
{
    if (n == 0 || w.empty() || w.size() % n != 0)
        return {};
    const size_t rows = w.size() / n;
    std::vector<uint32_t> shift(n);
    for (size_t j = 0; j < n; ++j) {
        uint32_t bits = 0;
        for (size_t r = 0; r < rows; ++r)
            bits |= uint32_t(w[r * n + j]);
        shift[j] = bits == 0 ? 0 : uint32_t(std::countr_zero(bits));
    }
    std::vector<int8_t> m(w.size());
    for (size_t r = 0; r < rows; ++r)
        for (size_t j = 0; j < n; ++j) {
            const int32_t v = w[r * n + j] >> shift[j]; // exact: the shifted-out bits are zero
            if (v < INT8_MIN || v > INT8_MAX)
                return {};
            m[r * n + j] = int8_t(v);
        }
    return {SharedArray<int8_t>(std::move(m)), SharedArray<uint32_t>(std::move(shift))};
}
} // namespace

int64_t narrowKernels(SimProgram& prog)
{
    // Groups sharing a kernel's storage share its narrow form.
    std::unordered_map<const int32_t*, Narrow> done;
    int64_t withForm = 0;
    for (CoreProgram& cp : prog.cores)
        for (SynapseBlock& b : cp.inputs) {
            if (!b.conv)
                continue;
            for (ConvPlan::Group& g : b.plan.groups) {
                auto [it, fresh] = done.try_emplace(g.kernel.data());
                if (fresh)
                    it->second = narrowForm(g.kernel.values(), g.features.size());
                g.narrow = it->second.narrow;
                g.shift = it->second.shift;
                g.narrowOf = g.kernel.generation();
                withForm += !g.narrow.empty();
            }
        }
    return withForm;
}

} // namespace stc::sim
