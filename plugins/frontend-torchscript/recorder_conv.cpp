// Convolutions that LibTorch computes with its slow kernel, split over two
// threads along the batch.
//
// Single-threaded LibTorch (its default on the 2-vCPU machines we measure on:
// at::get_num_threads() is 1 there) computes 1x1 convolutions on batches
// below 16 with the "slow" (THNN) backend: one im2col + BLAS sgemm per
// sample, samples in a sequential loop, and Debian's LibTorch links the
// reference BLAS. That loop is more than half of recording a Spikformer,
// whose q/k/v/proj/MLP layers are Conv1d(k=1) on T*B samples. Each sample is
// computed on its own, so running the two halves of the batch as two calls on
// two threads gives the very same bytes as one call: the recording stays
// LibTorch's own result. LibTorch is asked which backend it would use (for
// the whole batch and for each half); anything other than the slow kernel,
// or an argument list that does not parse, runs as one ordinary call.
// (Raising LibTorch's own thread count instead would switch these
// convolutions to oneDNN, i.e. change the numbers, and its OpenMP threads
// spin badly on a loaded machine: 2.6 s -> 5.2 s per import measured.)
#include "recorder_internal.h"

#include <ATen/native/ConvUtils.h>

#include <future>
#include <optional>
#include <thread>

namespace stc::torchscript::detail {

namespace {

struct ConvArgs {
    at::Tensor input, weight;
    c10::optional<at::Tensor> bias;
    std::vector<int64_t> stride, padding, dilation, outputPadding;
    bool transposed = false;
    int64_t groups = 1;
};

std::optional<std::vector<int64_t>> intList(const IValue& v)
{
    if (!v.isIntList())
        return std::nullopt;
    return v.toIntVector();
}

// aten::_convolution, aten::convolution, aten::conv1d/2d (int-list padding).
std::optional<ConvArgs> parseConv(const std::string& kind, const std::vector<IValue>& s)
{
    const bool full = kind == "aten::_convolution" || kind == "aten::convolution";
    const bool plain = kind == "aten::conv1d" || kind == "aten::conv2d";
    if (!(full || plain) || s.size() < (full ? 9u : 7u))
        return std::nullopt;
    if (!s[0].isTensor() || !s[1].isTensor())
        return std::nullopt;
    ConvArgs a;
    a.input = s[0].toTensor();
    a.weight = s[1].toTensor();
    if (s[2].isTensor())
        a.bias = s[2].toTensor();
    else if (!s[2].isNone())
        return std::nullopt;
    auto stride = intList(s[3]), padding = intList(s[4]), dilation = intList(s[5]);
    if (!stride || !padding || !dilation) // e.g. padding='same'
        return std::nullopt;
    a.stride = *stride;
    a.padding = *padding;
    a.dilation = *dilation;
    if (full) {
        auto outPad = intList(s[7]);
        if (!s[6].isBool() || !outPad || !s[8].isInt())
            return std::nullopt;
        a.transposed = s[6].toBool();
        a.outputPadding = *outPad;
        a.groups = s[8].toInt();
    } else {
        if (!s[6].isInt())
            return std::nullopt;
        a.groups = s[6].toInt();
        a.outputPadding.assign(a.stride.size(), 0);
    }
    return a;
}

bool slowKernel(const ConvArgs& a, const at::Tensor& input)
{
    return at::native::select_conv_backend(input, a.weight, a.bias, a.stride, a.padding, a.dilation, a.transposed,
                                           a.outputPadding, a.groups) == at::native::ConvBackend::Slow2d;
}

} // namespace

bool runSplitConvolution(const std::string& kind, torch::jit::Operation& op, std::vector<IValue>& stack)
{
    static const bool twoCores = std::thread::hardware_concurrency() >= 2;
    if (!twoCores)
        return false;
    auto a = parseConv(kind, stack);
    if (!a)
        return false;
    const at::Tensor& x = a->input;
    if (!x.defined() || !a->weight.defined() || !x.device().is_cpu() || x.is_mkldnn() || x.dim() != a->weight.dim() ||
        x.dim() < 3 || x.size(0) < 2)
        return false;
    const int64_t n = x.size(0), half = n / 2;
    const at::Tensor lo = x.narrow(0, 0, half), hi = x.narrow(0, half, n - half);
    if (!slowKernel(*a, x) || !slowKernel(*a, lo) || !slowKernel(*a, hi))
        return false;

    std::vector<IValue> first = stack, second = stack;
    first[0] = lo;
    second[0] = hi;
    // The worker must make LibTorch's choices exactly as this thread does:
    // same grad mode, same intra-op thread count (the backend depends on it).
    const int threads = at::get_num_threads();
    const bool grad = c10::GradMode::is_enabled();
    auto worker = std::async(std::launch::async, [op2 = op, &second, &a, &hi, threads, grad]() mutable {
        c10::AutoGradMode gradMode(grad);
        if (at::get_num_threads() != threads)
            at::set_num_threads(threads);
        if (!slowKernel(*a, hi))
            return false;
        op2(second);
        return true;
    });
    bool ok = false;
    try {
        op(first);
        ok = worker.get();
    } catch (...) {
        if (worker.valid())
            worker.wait();
        return false; // the ordinary call reports the error
    }
    if (!ok || first.size() != 1 || second.size() != 1 || !first[0].isTensor() || !second[0].isTensor() ||
        !first[0].toTensor().is_contiguous() || !second[0].toTensor().is_contiguous())
        return false;
    stack.clear();
    stack.emplace_back(at::cat({first[0].toTensor(), second[0].toTensor()}, 0));
    return true;
}

} // namespace stc::torchscript::detail
