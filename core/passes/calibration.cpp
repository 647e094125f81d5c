#include "passes/calibration.h"

#include <algorithm>

namespace stc::passes {

CalibrationProvider imageSetCalibration(std::shared_ptr<const data::ImageSet> images)
{
    return [images](int64_t maxSamples) {
        CalibrationSet set;
        set.sampleShape = images->sampleShape();
        const int64_t n = std::min(maxSamples, images->count);
        for (int64_t i = 0; i < n; ++i) {
            auto img = images->image(i);
            set.samples.emplace_back(img.begin(), img.end());
        }
        return set;
    };
}

} // namespace stc::passes
