// Calibration data providers for CompileContext::calibration.
#pragma once

#include "data/fashion_mnist.h"
#include "passes/context.h"

#include <memory>

namespace stc::passes {

// The first N images of a loaded image set (e.g. the Fashion-MNIST training split).
CalibrationProvider imageSetCalibration(std::shared_ptr<const data::ImageSet> images);

} // namespace stc::passes
