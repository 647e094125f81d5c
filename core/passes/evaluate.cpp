#include "passes/evaluate.h"

#include "fixedpoint/executor.h"
#include "interp/interpreter.h"

#include <algorithm>
#include <chrono>

namespace stc::passes {

EvalResult evaluateTop1(const ir::Module& m, const data::ImageSet& set, ExecPath path, int64_t first, int64_t count,
                        int threads, const std::atomic<bool>* cancel)
{
    EvalResult r;
    const auto t0 = std::chrono::steady_clock::now();
    count = std::max<int64_t>(0, std::min(count, set.count - first));
    constexpr int64_t kBatch = 250;
    for (int64_t b = first; b < first + count; b += kBatch) {
        const int64_t n = std::min(kBatch, first + count - b);
        std::vector<interp::InputBatch> in{{n, set.batch(b, n)}};
        std::vector<float> out;
        if (path == ExecPath::Float) {
            interp::RunOptions o;
            o.threads = threads;
            o.cancel = cancel;
            auto res = interp::run(m, in, o);
            if (!res.ok()) {
                r.error = res.cancelled ? "cancelled" : res.error;
                return r;
            }
            out = std::move(res.outputs.at(0));
        } else {
            fixedpoint::RunOptions o;
            o.threads = threads;
            o.cancel = cancel;
            auto res = fixedpoint::run(m, in, o);
            if (!res.ok()) {
                r.error = res.cancelled ? "cancelled" : res.error;
                return r;
            }
            out = std::move(res.outputs.at(0));
        }
        const size_t classes = out.size() / size_t(n);
        for (int64_t s = 0; s < n; ++s) {
            const auto it = out.begin() + long(size_t(s) * classes);
            const auto pred = int32_t(std::max_element(it, it + long(classes)) - it);
            r.predictions.push_back(pred);
            r.correct += !set.labels.empty() && pred == set.labels[size_t(b + s)];
        }
        r.images += n;
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

} // namespace stc::passes
