// Top-1 accuracy of a module on a labelled image set, in the f32 interpreter
// or the fixed-point reference path. Used by bench/bench_accuracy.cpp and the
// model tests.
#pragma once

#include "data/fashion_mnist.h"
#include "ir/module.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace stc::passes {

enum class ExecPath { Float, FixedPoint };

struct EvalResult {
    int64_t images = 0;
    int64_t correct = 0;
    std::vector<int32_t> predictions; // per image
    double seconds = 0.0;
    std::string error;
    double accuracy() const { return images ? double(correct) / double(images) : 0.0; }
};

// Runs `count` images from `first` in batches; `threads` < 1 = all cores.
EvalResult evaluateTop1(const ir::Module& m, const data::ImageSet& set, ExecPath path, int64_t first, int64_t count,
                        int threads = 0, const std::atomic<bool>* cancel = nullptr);

} // namespace stc::passes
