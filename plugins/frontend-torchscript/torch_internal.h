// Shared by the two LibTorch translation units only (never include from
// std-only code): keeps torch headers out of everything else.
#pragma once

#include "torch_session.h"

#include <ATen/Parallel.h>
#include <torch/script.h>

namespace stc::torchscript::detail {

// "__torch__.stc_snn.___torch_mangle_3.MultiStepLIFNode" -> "stc_snn.MultiStepLIFNode"
std::string cleanTypeName(const std::string& qualified);

// Sets LibTorch's intra-op thread count for a scope. The small elementwise
// replays of neuron probing are faster (and spin less under load) on one.
// (The recording keeps LibTorch's default: each op runs once, and oneDNN's
// per-shape kernel generation costs more than its threads win.)
class ThreadScope {
public:
    explicit ThreadScope(int n) : previous_(at::get_num_threads())
    {
        if (n > 0 && n != previous_)
            at::set_num_threads(n);
    }
    ~ThreadScope()
    {
        if (at::get_num_threads() != previous_)
            at::set_num_threads(previous_);
    }
    ThreadScope(const ThreadScope&) = delete;
    ThreadScope& operator=(const ThreadScope&) = delete;

private:
    int previous_;
};

std::unique_ptr<Recording> recordForward(const torch::jit::Module& module, const std::string& file,
                                         const at::Tensor& input, const std::atomic<bool>* cancel,
                                         Diagnostics& diags);

} // namespace stc::torchscript::detail
