#include "data/fashion_mnist.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

namespace stc::data {

namespace {

constexpr uint32_t kImagesMagic = 0x00000803; // unsigned byte, 3 dims
constexpr uint32_t kLabelsMagic = 0x00000801; // unsigned byte, 1 dim

struct GzCloser {
    void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

class Reader {
public:
    explicit Reader(std::string path) : path_(std::move(path)) {}

    bool open()
    {
        std::error_code ec;
        if (!std::filesystem::exists(path_, ec)) {
            error_ = path_ + ": file not found";
            return false;
        }
        file_.reset(gzopen(path_.c_str(), "rb"));
        if (!file_) {
            error_ = path_ + ": cannot open (" + std::strerror(errno) + ")";
            return false;
        }
        gzbuffer(file_.get(), 1 << 16);
        return true;
    }

    // Reads exactly n bytes; `what` names the part for the error message.
    bool read(void* dst, size_t n, const char* what)
    {
        auto* out = static_cast<unsigned char*>(dst);
        while (n > 0) {
            const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n, 1u << 30));
            const int got = gzread(file_.get(), out, chunk);
            if (got < 0) {
                int code = 0;
                const char* msg = gzerror(file_.get(), &code);
                error_ = path_ + ": corrupt gzip data while reading " + what + " (" + (msg ? msg : "?") + ")";
                return false;
            }
            if (got == 0) {
                int code = 0;
                const char* msg = gzerror(file_.get(), &code);
                error_ = path_ + ": file ends early while reading " + what;
                if (code != Z_OK && msg && *msg)
                    error_ += std::string(" (") + msg + ")";
                return false;
            }
            out += got;
            n -= size_t(got);
        }
        return true;
    }

    bool readU32(uint32_t& v, const char* what)
    {
        unsigned char b[4];
        if (!read(b, 4, what))
            return false;
        v = (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | uint32_t(b[3]);
        return true;
    }

    bool header(uint32_t expectMagic, const char* kind, uint32_t& magic)
    {
        if (!readU32(magic, "the IDX header"))
            return false;
        if (magic != expectMagic) {
            char buf[96];
            std::snprintf(buf, sizeof buf, ": not an IDX %s file (magic 0x%08x, expected 0x%08x)", kind, magic,
                          expectMagic);
            error_ = path_ + buf;
            return false;
        }
        return true;
    }

    const std::string& error() const { return error_; }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    GzFile file_;
    std::string error_;
};

int64_t clampCount(uint32_t n, int64_t limit) { return limit >= 0 ? std::min<int64_t>(n, limit) : int64_t(n); }

} // namespace

std::vector<float> ImageSet::batch(int64_t first, int64_t n) const
{
    const auto begin = pixels.begin() + first * sampleSize();
    return std::vector<float>(begin, begin + n * sampleSize());
}

std::string defaultFashionMnistDir()
{
    if (const char* env = std::getenv("STC_FASHION_MNIST_DIR"); env && *env)
        return env;
    return "/usr/share/datasets/fashion-mnist";
}

Loaded<ImageSet> readIdxImages(const std::string& path, int64_t limit)
{
    Loaded<ImageSet> out;
    Reader r(path);
    uint32_t magic = 0, n = 0, rows = 0, cols = 0;
    if (!r.open() || !r.header(kImagesMagic, "image", magic) || !r.readU32(n, "the image count") ||
        !r.readU32(rows, "the row count") || !r.readU32(cols, "the column count")) {
        out.error = r.error();
        return out;
    }
    if (rows == 0 || cols == 0 || rows > 4096 || cols > 4096 || n > (1u << 28)) {
        out.error = path + ": implausible IDX dimensions " + std::to_string(n) + " x " + std::to_string(rows) + " x " +
                    std::to_string(cols);
        return out;
    }
    ImageSet& set = out.value;
    set.count = clampCount(n, limit);
    set.height = rows;
    set.width = cols;
    std::vector<uint8_t> bytes(size_t(set.count * set.sampleSize()));
    if (!r.read(bytes.data(), bytes.size(), "the pixels")) {
        out.error = r.error() + " (header announces " + std::to_string(n) + " images of " + std::to_string(rows) +
                    "x" + std::to_string(cols) + ")";
        out.value = {};
        return out;
    }
    set.pixels.resize(bytes.size());
    for (size_t i = 0; i < bytes.size(); ++i)
        set.pixels[i] = float(bytes[i]) / 255.0f;
    return out;
}

Loaded<std::vector<uint8_t>> readIdxLabels(const std::string& path, int64_t limit)
{
    Loaded<std::vector<uint8_t>> out;
    Reader r(path);
    uint32_t magic = 0, n = 0;
    if (!r.open() || !r.header(kLabelsMagic, "label", magic) || !r.readU32(n, "the label count")) {
        out.error = r.error();
        return out;
    }
    if (n > (1u << 28)) {
        out.error = path + ": implausible label count " + std::to_string(n);
        return out;
    }
    out.value.resize(size_t(clampCount(n, limit)));
    if (!r.read(out.value.data(), out.value.size(), "the labels")) {
        out.error = r.error() + " (header announces " + std::to_string(n) + " labels)";
        out.value.clear();
    }
    return out;
}

Loaded<ImageSet> loadFashionMnist(Split split, const std::string& dir, int64_t limit)
{
    const std::string prefix = dir + '/' + (split == Split::Train ? "train" : "t10k");
    Loaded<ImageSet> images = readIdxImages(prefix + "-images-idx3-ubyte.gz", limit);
    if (!images.ok())
        return images;
    Loaded<std::vector<uint8_t>> labels = readIdxLabels(prefix + "-labels-idx1-ubyte.gz", limit);
    if (!labels.ok()) {
        images.value = {};
        images.error = labels.error;
        return images;
    }
    if (int64_t(labels.value.size()) != images.value.count) {
        images.error = prefix + ": " + std::to_string(images.value.count) + " images but " +
                       std::to_string(labels.value.size()) + " labels";
        images.value = {};
        return images;
    }
    for (size_t i = 0; i < labels.value.size(); ++i)
        if (labels.value[i] > 9) {
            images.error = prefix + "-labels-idx1-ubyte.gz: label " + std::to_string(labels.value[i]) +
                           " at index " + std::to_string(i) + " is not a class 0..9";
            images.value = {};
            return images;
        }
    images.value.labels = std::move(labels.value);
    return images;
}

const std::vector<std::string>& fashionMnistClassNames()
{
    static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                   "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    return names;
}

} // namespace stc::data
