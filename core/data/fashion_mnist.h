// Fashion-MNIST (Xiao et al. 2017) from its gzip-compressed IDX files, as the
// Debian package ships them in /usr/share/datasets/fashion-mnist/:
//   {train,t10k}-images-idx3-ubyte.gz  (magic 0x00000803, N x 28 x 28 bytes)
//   {train,t10k}-labels-idx1-ubyte.gz  (magic 0x00000801, N bytes, 0..9)
// Pixels become float pixel / 255 (torchvision's ToTensor), shape [N, 1, 28, 28].
// Uncompressed IDX files are read as well (zlib passes them through).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stc::data {

enum class Split { Train, Test };

struct ImageSet {
    int64_t count = 0;
    int64_t channels = 1, height = 28, width = 28;
    std::vector<float> pixels;   // count * channels * height * width, [N, C, H, W] row-major
    std::vector<uint8_t> labels; // count entries (empty when only images were read)

    int64_t sampleSize() const { return channels * height * width; }
    std::vector<int64_t> shape() const { return {count, channels, height, width}; }
    std::vector<int64_t> sampleShape() const { return {channels, height, width}; }
    std::span<const float> image(int64_t i) const
    {
        return std::span<const float>(pixels).subspan(size_t(i * sampleSize()), size_t(sampleSize()));
    }
    // Images [first, first + n) as one contiguous batch (a copy).
    std::vector<float> batch(int64_t first, int64_t n) const;
};

template <typename T> struct Loaded {
    T value;
    std::string error; // non-empty on failure: which file and what was wrong
    bool ok() const { return error.empty(); }
};

// The directory of the Debian package; the STC_FASHION_MNIST_DIR environment variable overrides it.
std::string defaultFashionMnistDir();

// Reads images and labels of a split. limit >= 0 reads only the first `limit` samples.
Loaded<ImageSet> loadFashionMnist(Split split, const std::string& dir = defaultFashionMnistDir(),
                                  int64_t limit = -1);

// The two IDX readers (gzip or plain); limit as above.
Loaded<ImageSet> readIdxImages(const std::string& path, int64_t limit = -1);
Loaded<std::vector<uint8_t>> readIdxLabels(const std::string& path, int64_t limit = -1);

// "T-shirt/top", "Trouser", ..., "Ankle boot" (10 classes, label order).
const std::vector<std::string>& fashionMnistClassNames();

} // namespace stc::data
